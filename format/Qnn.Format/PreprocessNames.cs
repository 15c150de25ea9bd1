namespace Qnn.Format;

/// <summary>The names of the preprocessing flags of SPEC 2.3, as inspect, export and the ONNX metadata print them.</summary>
public static class PreprocessNames
{
    public static string[] Of(int flags) =>
        [.. (flags & Preprocess.Invert) != 0 ? ["invert"] : Array.Empty<string>(),
         .. (flags & Preprocess.Center) != 0 ? ["center"] : Array.Empty<string>()];
}
