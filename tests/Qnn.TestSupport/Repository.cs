namespace Qnn.TestSupport;

/// <summary>The repository the tests run from: tests that read its docs, scripts or project files start here.</summary>
public static class Repository
{
    /// <summary>The folder that holds Qnn.Edge.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Qnn.Edge.sln"))) return dir.FullName;
        throw new InvalidOperationException("Qnn.Edge.sln not found above " + AppContext.BaseDirectory);
    }
}
