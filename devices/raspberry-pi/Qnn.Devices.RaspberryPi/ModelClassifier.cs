using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Edge.Imaging;
using SixLabors.ImageSharp;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// An image in, a class out: the image is converted to the model's input (grayscale or colour, inverted and
/// centred as the model header's preprocessing flags say, resized) by runtime-edge's <see cref="ImageInput"/>, the
/// conversion `qnn run` uses, then run through the fast interpreter, which gives the same integers as the portable
/// reference.
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

    /// <summary>Classifies an image file (PNG, JPEG, PGM, BMP, ..., or raw H·W·C pixels); errors name the file.</summary>
    public Classification ClassifyFile(string path) => Classify(path, () => ImageInput.Load(path, _model));

    /// <summary>Classifies an encoded picture, such as a camera's JPEG; <paramref name="source"/> names it in the result.</summary>
    public Classification ClassifyPicture(byte[] encoded, string source) => Classify(source, () =>
    {
        using var image = Image.Load(encoded);
        return ImageInput.FromImage(image, _model);
    });

    private Classification Classify(string source, Func<byte[]> toInput)
    {
        long start = Stopwatch.GetTimestamp();
        byte[] input = toInput();
        long converted = Stopwatch.GetTimestamp();
        var scores = new int[_model.ClassCount];
        int predicted = _interpreter.Run(input, scores);
        long done = Stopwatch.GetTimestamp();
        string? label = _model.Labels is { } labels && predicted < labels.Length ? labels[predicted] : null;
        return new Classification(source, predicted, label, scores,
            Stopwatch.GetElapsedTime(start, converted), Stopwatch.GetElapsedTime(converted, done));
    }
}
