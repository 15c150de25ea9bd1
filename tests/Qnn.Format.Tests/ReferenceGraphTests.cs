using System.Xml.Linq;

namespace Qnn.Format.Tests;

/// <summary>
/// The assemblies' references read like the architecture: format ← runtimes ← verification ← CLI, the trainer on the
/// format, nothing below the CLI on the CLI. A project reference outside <see cref="Allowed"/> fails here; the known
/// exceptions are listed in <see cref="Debts"/> with their reason, and a second test fails once one is paid off, so
/// the list only shrinks.
/// </summary>
public sealed class ReferenceGraphTests
{
    private static readonly string[] Runtimes = ["Qnn.Runtime.Edge", "Qnn.Runtime.Edge.Fast", "Qnn.Runtime.Gpu"];

    /// <summary>What each project may reference directly. Test projects may reference anything but Qnn.Cli (Qnn.Cli.Tests excepted).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Qnn.Format"] = [],
        ["Qnn.Datasets"] = ["Qnn.Format"],
        ["Qnn.Onnx"] = ["Qnn.Format"],
        ["Qnn.Runtime.Edge"] = ["Qnn.Format"],
        ["Qnn.Runtime.Edge.NanoFramework"] = [],
        ["Qnn.Runtime.Edge.Fast"] = ["Qnn.Format", "Qnn.Runtime.Edge"],
        ["Qnn.Runtime.Edge.Imaging"] = ["Qnn.Format"],
        ["Qnn.Gpu.Device"] = [],
        ["Qnn.Runtime.Gpu"] = ["Qnn.Format", "Qnn.Gpu.Device"],
        ["Qnn.Verification"] = ["Qnn.Format", "Qnn.Datasets", "Qnn.Onnx", "Qnn.Trainer", .. Runtimes],
        ["Qnn.Trainer"] = ["Qnn.Format", "Qnn.Datasets"],
        ["Qnn.Trainer.Gpu"] = ["Qnn.Format", "Qnn.Trainer", "Qnn.Gpu.Device"],
        ["Qnn.Devices"] = ["Qnn.Format", "Qnn.Runtime.Edge"],
        ["Qnn.Devices.Fleet"] = ["Qnn.Format", "Qnn.Runtime.Edge.Fast"],
        ["Qnn.Devices.RaspberryPi"] = ["Qnn.Format", "Qnn.Devices", "Qnn.Devices.Fleet", "Qnn.Runtime.Edge", "Qnn.Runtime.Edge.Fast", "Qnn.Runtime.Edge.Imaging"],
        ["Qnn.Devices.NanoFramework.Check"] = ["Qnn.Runtime.Edge.NanoFramework"],
        ["Qnn.Benchmarks.Core"] = ["Qnn.Format", "Qnn.Datasets", "Qnn.Onnx", "Qnn.Trainer", "Qnn.Verification", .. Runtimes],
        ["Qnn.Benchmarks"] = ["Qnn.Benchmarks.Core"],
    };

    /// <summary>References the architecture forbids that are still there (issue 13), each with why.</summary>
    private static readonly (string From, string To, string Why)[] Debts =
    [
    ];

    [Fact]
    public void No_project_references_what_the_architecture_forbids()
    {
        var forbidden = new List<string>();
        foreach (var (project, references) in Graph())
            foreach (string reference in references)
            {
                bool allowed = project == "Qnn.Cli"
                    || (IsTest(project) ? reference != "Qnn.Cli" || project == "Qnn.Cli.Tests" : Allowed.TryGetValue(project, out var ok) && ok.Contains(reference))
                    || Debts.Any(d => d.From == project && d.To == reference);
                if (!allowed) forbidden.Add($"{project} -> {reference}");
            }
        Assert.True(forbidden.Count == 0, "forbidden project references (see ReferenceGraphTests.Allowed): " + string.Join(", ", forbidden));
    }

    [Fact]
    public void Every_listed_debt_is_still_there()
    {
        var graph = Graph();
        var paid = Debts.Where(d => !graph.TryGetValue(d.From, out var refs) || !refs.Contains(d.To)).Select(d => $"{d.From} -> {d.To}").ToList();
        Assert.True(paid.Count == 0, "no longer referenced, remove from ReferenceGraphTests.Debts: " + string.Join(", ", paid));
    }

    [Fact]
    public void Every_library_has_a_rule()
    {
        var missing = Graph().Keys.Where(p => p != "Qnn.Cli" && !IsTest(p) && !Allowed.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, "projects without a rule in ReferenceGraphTests.Allowed: " + string.Join(", ", missing));
    }

    private static bool IsTest(string project) => project.EndsWith(".Tests", StringComparison.Ordinal) || project == "Qnn.TestSupport";

    /// <summary>Every project of the repository (by file name) and the projects it references directly.</summary>
    private static Dictionary<string, string[]> Graph()
    {
        return Directory.EnumerateFiles(Repository.Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" || part.StartsWith('.')))
            .ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => XDocument.Load(p).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/'))).ToArray());
    }
}
