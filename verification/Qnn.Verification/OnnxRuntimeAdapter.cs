using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qnn.Format;
using Qnn.Onnx;

namespace Qnn.Verification;

/// <summary>
/// The exported ONNX graph (Qnn.Onnx) run by ONNX Runtime: a float implementation of the spec's integers, exact while
/// every accumulator bound stays below 2^24. It gives the class scores only, and its own ArgMax output is checked
/// against SPEC 1.7's rule on every sample.
/// </summary>
public sealed class OnnxRuntimeAdapter : IntegerRuntime
{
    private readonly QnnModel _model;
    private readonly InferenceSession _session;

    public OnnxRuntimeAdapter(QnnModel model)
    {
        _model = model;
        byte[] onnx;
        try { onnx = OnnxExporter.Export(model).Bytes; }
        catch (OnnxExportException e) { throw new VerificationException($"onnx: {e.Message}"); }
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, InterOpNumThreads = 1 };
        _session = new InferenceSession(onnx, options);
    }

    public override string Name => "onnx (ONNX Runtime)";

    public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
    {
        if (layers is not null) throw new VerificationException("onnx: the exported graph gives the class scores only; compare layers without the onnx runtime");
        if (count == 0) return;
        int bytes = _model.InputHeight * _model.InputWidth * _model.InputChannels, classes = _model.ClassCount;
        var input = new DenseTensor<byte>(images[..(count * bytes)].ToArray(), [count, _model.InputHeight, _model.InputWidth, _model.InputChannels]);
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input)]);
        int[] onnxScores = results.Single(r => r.Name == OnnxExporter.ScoresName).AsTensor<int>().ToArray();
        long[] onnxClasses = results.Single(r => r.Name == OnnxExporter.ClassName).AsTensor<long>().ToArray();
        onnxScores.AsSpan(0, count * classes).CopyTo(scores);
        for (int n = 0; n < count; n++)
        {
            int expected = Prediction.ArgMax(scores.AsSpan(n * classes, classes));
            if (onnxClasses[n] != expected)
                throw new VerificationException($"onnx: sample {n} of a round: the graph's ArgMax gives class {onnxClasses[n]}, its scores give {expected} (SPEC 1.7)");
        }
    }

    public override void Dispose()
    {
        _session.Dispose();
        base.Dispose();
    }
}
