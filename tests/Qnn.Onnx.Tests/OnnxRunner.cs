using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qnn.Format;
using Qnn.Onnx;
using Qnn.Runtime.Edge;

namespace Qnn.Onnx.Tests;

/// <summary>Runs an exported graph in ONNX Runtime and the .qnn model in the portable interpreter, side by side.</summary>
internal static class OnnxRunner
{
    /// <summary>ONNX Runtime's scores [count × classes] and predicted classes for <paramref name="count"/> 8-bit images.</summary>
    public static (int[] Scores, long[] Classes) RunOnnx(byte[] onnx, QnnModel model, byte[] images, int count)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        var input = new DenseTensor<byte>(images.AsMemory(0, count * ImageBytes(model)),
            [count, model.InputHeight, model.InputWidth, model.InputChannels]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input)]);
        int[] scores = results.Single(r => r.Name == OnnxExporter.ScoresName).AsTensor<int>().ToArray();
        long[] classes = results.Single(r => r.Name == OnnxExporter.ClassName).AsTensor<long>().ToArray();
        return (scores, classes);
    }

    /// <summary>The portable interpreter's scores and classes for the same images: the reference. One interpreter per core.</summary>
    public static (int[] Scores, int[] Classes) RunInterpreter(QnnModel model, byte[] images, int count)
    {
        int size = ImageBytes(model), classes = model.ClassCount;
        var allScores = new int[count * classes];
        var predicted = new int[count];
        int chunks = Environment.ProcessorCount;
        Parallel.For(0, chunks, chunk =>
        {
            var interpreter = new Interpreter(model);
            var image = new byte[size];
            var scores = new int[classes];
            for (int i = chunk; i < count; i += chunks)
            {
                Array.Copy(images, i * size, image, 0, size);
                predicted[i] = interpreter.Run(image, scores);
                Array.Copy(scores, 0, allScores, i * classes, classes);
            }
        });
        return (allScores, predicted);
    }

    public static int ImageBytes(QnnModel model) => model.InputHeight * model.InputWidth * model.InputChannels;

    /// <summary>The model as a reader sees it after writing, so that both sides run what a file holds.</summary>
    public static QnnModel RoundTrip(QnnModel model) => ModelFile.Parse(ModelWriter.Write(model), "random model");

    /// <summary>
    /// Null when ONNX Runtime and the interpreter agree on every image, else the first difference; with the
    /// interpreter's predicted classes.
    /// </summary>
    public static (string? Difference, int[] Classes) Compare(QnnModel model, byte[] images, int count)
    {
        byte[] onnx = OnnxExporter.Export(model).Bytes;
        var (onnxScores, onnxClasses) = RunOnnx(onnx, model, images, count);
        var (refScores, refClasses) = RunInterpreter(model, images, count);
        int classes = model.ClassCount;
        for (int i = 0; i < count; i++)
        {
            var a = refScores.AsSpan(i * classes, classes);
            var b = onnxScores.AsSpan(i * classes, classes);
            if (!a.SequenceEqual(b) || refClasses[i] != onnxClasses[i])
                return ($"image {i}: interpreter class {refClasses[i]} scores [{string.Join(",", a.ToArray())}], "
                    + $"ONNX Runtime class {onnxClasses[i]} scores [{string.Join(",", b.ToArray())}]", refClasses);
        }
        return (null, refClasses);
    }
}
