using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// An image file in, a class out: the file is converted to the model's input (grayscale or colour, inverted and
/// centred as the model header's preprocessing flags say, resized) by the same conversion `qnn run` uses, then
/// run through the fast interpreter, which gives the same integers as the portable reference.
/// </summary>
public sealed class ModelClassifier
{
    private readonly QnnModel _model;
    private readonly FastInterpreter _interpreter;

    public ModelClassifier(QnnModel model)
    {
        _model = model;
        _interpreter = new FastInterpreter(model);
        // One run on a blank image at start, so that the first printed latency is not the JIT compiling the kernels.
        _interpreter.Run(new byte[model.InputHeight * model.InputWidth * model.InputChannels], new int[model.ClassCount]);
    }

    public QnnModel Model => _model;

    /// <summary>Classifies an encoded image file (or raw H·W·C pixels); <paramref name="source"/> names it in the result.</summary>
    public Classification Classify(byte[] imageFile, string source)
    {
        long start = Stopwatch.GetTimestamp();
        byte[] input = ToModelInput(imageFile, source);
        long converted = Stopwatch.GetTimestamp();
        var scores = new int[_model.ClassCount];
        int predicted = _interpreter.Run(input, scores);
        long done = Stopwatch.GetTimestamp();
        string? label = _model.Labels is { } labels && predicted < labels.Length ? labels[predicted] : null;
        return new Classification(source, predicted, label, scores,
            Stopwatch.GetElapsedTime(start, converted), Stopwatch.GetElapsedTime(converted, done));
    }

    /// <summary>The model's input pixels for an image file: runtime-edge's ImageInput, shared with `qnn run`.</summary>
    public byte[] ToModelInput(byte[] imageFile, string source) => ImageInput.FromBytes(imageFile, _model, source);
}
