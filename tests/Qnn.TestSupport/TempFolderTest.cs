namespace Qnn.TestSupport;

/// <summary>A test class with its own <see cref="TempFolder"/>, deleted when xunit disposes the class after each test.</summary>
public abstract class TempFolderTest : IDisposable
{
    protected TempFolder Temp { get; } = new();

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
