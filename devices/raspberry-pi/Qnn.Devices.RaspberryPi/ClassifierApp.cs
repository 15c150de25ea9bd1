using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Qnn.Format;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// The app's loop: requests (a button press asks for a camera capture; a file given on the command line or dropped
/// into the watched folder asks for that file) are queued from any thread and classified one at a time on the loop,
/// so a slow inference never blocks a GPIO callback. Each result goes to every display and prints one line with
/// its latency. A request that fails (unreadable file, camera error) prints one line and the loop goes on.
/// </summary>
public sealed class ClassifierApp
{
    private abstract record Request;
    private sealed record CaptureRequest : Request;
    private sealed record FileRequest(string Path) : Request;

    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ModelClassifier _classifier;
    private readonly IReadOnlyList<IClassDisplay> _displays;
    private readonly IFrameSource? _camera;
    private readonly TextWriter _log;
    private readonly bool _json;
    private int _classified;
    private int _failed;

    public ClassifierApp(ModelClassifier classifier, IReadOnlyList<IClassDisplay> displays, IFrameSource? camera, TextWriter log, bool json = false)
    {
        _classifier = classifier;
        _displays = displays;
        _camera = camera;
        _log = log;
        _json = json;
    }

    /// <summary>Images classified so far.</summary>
    public int Classified => Volatile.Read(ref _classified);

    /// <summary>Requests that failed so far.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Raised on the loop after each classification has been shown.</summary>
    public event Action<Classification>? ClassificationShown;

    /// <summary>Queues a camera capture (the button's action).</summary>
    public void RequestCapture() => _requests.Writer.TryWrite(new CaptureRequest());

    /// <summary>Queues an image file.</summary>
    public void RequestFile(string path) => _requests.Writer.TryWrite(new FileRequest(path));

    /// <summary>No more requests will come: <see cref="RunAsync"/> returns once the queue is empty.</summary>
    public void Complete() => _requests.Writer.TryComplete();

    /// <summary>Classifies requests until <see cref="Complete"/> was called and the queue is empty, or until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        try
        {
            await foreach (var request in _requests.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
                await HandleAsync(request, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(Request request, CancellationToken cancellation)
    {
        string source = request is FileRequest f ? f.Path : "camera";
        try
        {
            Classification result;
            if (request is FileRequest file)
            {
                await WaitUntilCompleteAsync(file.Path, cancellation).ConfigureAwait(false);
                result = _classifier.ClassifyFile(file.Path);
            }
            else
            {
                if (_camera is null) throw new InvalidOperationException("no camera: start the app with --camera");
                result = _classifier.ClassifyPicture(await _camera.CaptureAsync(cancellation).ConfigureAwait(false), source);
            }
            foreach (var display in _displays) display.Show(result);
            Interlocked.Increment(ref _classified);
            Print(result);
            ClassificationShown?.Invoke(result);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or QnnFormatException
                                       or SixLabors.ImageSharp.ImageFormatException or InvalidOperationException
                                       or NotSupportedException or ArgumentException)
        {
            Interlocked.Increment(ref _failed);
            // Errors from the image conversion already start with the file's name.
            _log.WriteLine(e.Message.StartsWith(source + ":", StringComparison.Ordinal) ? e.Message : $"{source}: {e.Message}");
        }
    }

    private void Print(Classification c)
    {
        if (_json)
        {
            _log.WriteLine(JsonSerializer.Serialize(new
            {
                source = c.Source, @class = c.Class, label = c.Label, scores = c.Scores,
                preprocessMs = c.Preprocess.TotalMilliseconds, inferenceMs = c.Inference.TotalMilliseconds,
            }));
            return;
        }
        string label = c.Label is null ? "" : $" ({c.Label})";
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{c.Source}: class {c.Class}{label}  inference {c.Inference.TotalMilliseconds:0.000} ms  preprocess {c.Preprocess.TotalMilliseconds:0.0} ms"));
    }

    /// <summary>Waits until a file's length has stopped changing (a dropped file may still be being written).</summary>
    private static async Task WaitUntilCompleteAsync(string path, CancellationToken cancellation)
    {
        long last = -1;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new FileNotFoundException($"{path}: no such file", path);
            if (info.Length > 0 && info.Length == last) return;
            last = info.Length;
            await Task.Delay(attempt == 0 ? 20 : 100, cancellation).ConfigureAwait(false);
        }
        throw new IOException($"{path}: the file kept growing for 5 seconds");
    }
}
