using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qnn.Devices;

/// <summary>
/// The file-deployment JSON of nanoff (the .NET nanoFramework firmware flasher) and the command that uploads it
/// to the device's internal file system: <c>nanoff --filedeployment FILE [--serialport PORT]</c>. nanoff reads an
/// optional <c>SerialPort</c> and a list of <c>Files</c>, each with <c>DestinationFilePath</c> (full path on the
/// device) and <c>SourceFilePath</c> (full path here).
/// </summary>
public static class NanoffDeployment
{
    public sealed record File(string DestinationFilePath, string SourceFilePath);

    public sealed record Configuration(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SerialPort,
        IReadOnlyList<File> Files);

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>
    /// The deployment of a model file to <paramref name="target"/>'s model path, and of raw input images (the
    /// ESP32 app classifies every I:\*.raw) next to it.
    /// </summary>
    public static Configuration ForModel(string modelPath, DeviceTarget target, string? serialPort, IReadOnlyList<string>? inputs = null)
    {
        var files = new List<File> { new(target.ModelPath, Path.GetFullPath(modelPath)) };
        string folder = target.ModelPath[..(target.ModelPath.LastIndexOf('\\') + 1)];
        foreach (string input in inputs ?? [])
            files.Add(new File(folder + Path.GetFileNameWithoutExtension(input) + ".raw", Path.GetFullPath(input)));
        return new(serialPort, files);
    }

    public static string ToJson(Configuration configuration) => JsonSerializer.Serialize(configuration, Options);

    /// <summary>The nanoff command line that deploys the files listed in <paramref name="jsonPath"/>.</summary>
    public static ToolCommand Command(string jsonPath, string? serialPort)
    {
        var arguments = new List<string> { "--filedeployment", Path.GetFullPath(jsonPath) };
        if (serialPort is not null) arguments.AddRange(["--serialport", serialPort]);
        return new ToolCommand("nanoff", arguments);
    }
}
