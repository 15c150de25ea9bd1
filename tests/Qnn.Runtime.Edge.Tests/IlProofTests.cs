using Qnn.Format;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// The proofs of issue 3 read from the compiled IL: the portable core multiplies, divides and uses floating
/// point nowhere, and its nanoFramework build uses nothing nanoCLR 1.x cannot run. Each check is also run on the
/// planted violations in Planted/ and must find them, so that it is known to be able to fail.
/// </summary>
public class IlProofTests
{
    private const string PlantedNamespace = "Qnn.Runtime.Edge.Tests.Planted.";
    private const int NanoLimitBytes = 64 << 10;

    public static string NanoAssemblyPath
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Qnn.Runtime.Edge.NanoFramework.dll");
            Assert.True(File.Exists(path), $"{path} is missing: the test project copies it from runtime-edge/Qnn.Runtime.Edge.NanoFramework");
            return path;
        }
    }

    private static string TestAssemblyPath => typeof(IlProofTests).Assembly.Location;

    private static bool Planted(string type) => type.StartsWith(PlantedNamespace, StringComparison.Ordinal);

    [Fact]
    public void The_portable_core_has_no_multiplication_division_or_floating_point()
    {
        var findings = new List<string>();
        using (var edge = new IlInspector(typeof(Interpreter).Assembly.Location))
            findings.AddRange(edge.MultiplicationAndFloat(_ => true));
        HashSet<string> portable;
        using (var nano = new IlInspector(NanoAssemblyPath))
        {
            findings.AddRange(nano.MultiplicationAndFloat(_ => true));
            portable = [.. nano.TypeNames()];
        }
        // The portable types as compiled into the desktop Qnn.Format.dll, which the desktop interpreter runs.
        Assert.Contains("Qnn.Format.ModelReader", portable);
        Assert.Contains("Qnn.Runtime.Edge.Interpreter", portable);
        Assert.Contains("Qnn.Runtime.Edge.SequenceInterpreter", portable);   // the recurrent steps (SPEC 1.10)
        using (var format = new IlInspector(typeof(ModelReader).Assembly.Location))
            findings.AddRange(format.MultiplicationAndFloat(portable.Contains));
        Assert.Empty(findings);
    }

    [Fact]
    public void The_multiplication_check_finds_planted_multiplies_divisions_and_floats()
    {
        using var test = new IlInspector(TestAssemblyPath);
        var findings = test.MultiplicationAndFloat(Planted);
        Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + "Multiplies::Area: mul at"));
        Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + "Divides::Third: div at"));
        Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + "Remainders::Mod: rem at"));
        Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + "Floats::Scale: ldc.r8 at"));
        Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + "Floats::Scale: conv.r8 at"));
        Assert.Contains(findings, f => f == PlantedNamespace + "FloatLocal::RoundTrip: floating-point local");
        Assert.DoesNotContain(findings, f => f.Contains("Generics::"));
    }

    /// <summary>Everything nanoCLR 1.x cannot run, with the 64 KB limits given.</summary>
    public static List<string> NanoFindings(IlInspector inspector, Func<string, bool> selectType, int limitBytes)
    {
        var findings = inspector.NanoFrameworkViolations(selectType);
        findings.AddRange(inspector.GenericTables());
        int il = inspector.TotalIlBytes();
        if (il > limitBytes) findings.Add($"{il} bytes of IL, over {limitBytes}");
        int data = inspector.StaticDataBytes();
        if (data > limitBytes) findings.Add($"{data} bytes of static array data, over {limitBytes}");
        foreach (var reference in inspector.AssemblyReferences())
            if (reference != "mscorlib") findings.Add($"references {reference}");
        return findings;
    }

    [Fact]
    public void The_nanoFramework_assembly_uses_only_what_nanoCLR_runs()
    {
        using var nano = new IlInspector(NanoAssemblyPath);
        Assert.Empty(NanoFindings(nano, _ => true, NanoLimitBytes));
        Assert.Equal(["mscorlib"], nano.AssemblyReferences());
        Assert.Contains("Qnn.Runtime.Edge.Interpreter", nano.TypeNames());
        Assert.Contains("Qnn.Runtime.Edge.SequenceInterpreter", nano.TypeNames());
        Assert.Contains("Qnn.Format.ModelReader", nano.TypeNames());
    }

    [Fact]
    public void The_nanoFramework_check_finds_planted_violations()
    {
        using var test = new IlInspector(TestAssemblyPath);
        var findings = NanoFindings(test, Planted, 16);
        void Has(string prefix, string what) =>
            Assert.Contains(findings, f => f.StartsWith(PlantedNamespace + prefix, StringComparison.Ordinal) && f.Contains(what));
        Has("Generics::Count", "generic method");
        Has("Generics::CallsGeneric", "generic type or method");
        Has("Generics::UsesFunc", "generic type or method");
        Has("MultiDimensional::Make", "multi-dimensional array");
        Has("StackAllocates::Sum", "localloc");
        Has("Pointers::Read", "pointer");
        Has("IDefaultMethod::Value", "default interface method");
        Assert.Contains(findings, f => f.Contains("generic method instantiations (MethodSpec)"));
        Assert.Contains(findings, f => f.EndsWith("bytes of IL, over 16"));
        Assert.Contains(findings, f => f.EndsWith("bytes of static array data, over 16"));
        Assert.Contains(findings, f => f == "references System.Runtime");
    }
}
