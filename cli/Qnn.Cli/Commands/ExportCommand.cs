using System.CommandLine;
using Qnn.Format;
using Qnn.Onnx;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn export MODEL --onnx OUT [--json]`: the model as a standard ONNX graph (opset 17) that computes the same
/// integer scores as the Qnn.Edge runtimes (format/Qnn.Onnx/OnnxExporter.cs says how).
/// </summary>
public static class ExportCommand
{
    public sealed record Result(string Model, string Onnx, string ModelId, int Opset, int Nodes, long OnnxBytes, long QnnBytes,
        long InitializerBytes, long MaxAccumulatorBound, string Input, string[] Outputs, string[] Preprocess);

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var onnx = new Option<string?>("--onnx") { Description = "Write an ONNX file (opset 17) computing the same integer scores." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("export", "Export a model to ONNX: int32 class scores equal to the runtimes' integers (check it on data with qnn verify MODEL --runtimes portable,onnx).");
        command.Arguments.Add(model);
        command.Options.Add(onnx);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("export", () =>
        {
            string path = parse.GetValue(model)!;
            string output = parse.GetValue(onnx) ?? throw new UserError("say where to write the export: --onnx OUT.onnx");
            OutputFile.CheckAll([("--onnx", output)], [("the model", path)]);
            QnnModel m = ModelFile.Load(path, out byte[] qnnBytes);
            OnnxExport export;
            try { export = OnnxExporter.Export(m, typeof(ExportCommand).Assembly.GetName().Version?.ToString(3) ?? "0"); }
            catch (OnnxExportException e) { throw new UserError($"{path}: {e.Message}"); }
            OutputFile.WriteAllBytes(output, export.Bytes);
            var result = new Result(path, output, m.ModelId.ToString("x16"), export.Opset, export.NodeCount, export.Bytes.Length,
                qnnBytes.Length, export.InitializerBytes, export.MaxAccumulatorBound,
                $"{OnnxExporter.InputName}: uint8 [batch, {m.InputHeight}, {m.InputWidth}, {m.InputChannels}] (8-bit pixels)",
                [$"{OnnxExporter.ScoresName}: int32 [batch, {m.ClassCount}]", $"{OnnxExporter.ClassName}: int64 [batch]"],
                PreprocessNames.Of(m.PreprocessFlags));
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else
            {
                Console.WriteLine($"{output}: ONNX opset {result.Opset}, {result.Nodes} nodes, {result.OnnxBytes:N0} bytes ({result.QnnBytes:N0} bytes as .qnn)");
                Console.WriteLine($"  input   {result.Input}");
                foreach (string o in result.Outputs) Console.WriteLine($"  output  {o}");
                if (result.Preprocess.Length > 0)
                    Console.WriteLine($"  camera frames and image files need {string.Join(" and ", result.Preprocess)} first (as `qnn run` does); data-set samples go in as they are");
                Console.WriteLine($"  same integers as the runtimes: largest accumulator bound {result.MaxAccumulatorBound:N0} < 2^24, exact in float32");
            }
            return 0;
        }));
        return command;
    }
}
