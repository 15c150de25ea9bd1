using System.CommandLine;
using Qnn.Datasets;

namespace Qnn.Cli;

/// <summary>
/// The --dataset option of every verb that reads a data set, and the image folder's --image-size and --channels:
/// one home for their texts, the loading with a progress line on stderr, and the list of images that were skipped.
/// </summary>
public static class DatasetSource
{
    public static Option<string> Option(string what = "") => new("--dataset")
    {
        Description = $"{DatasetLoader.Forms}{what}", DefaultValueFactory = _ => "mnist",
    };

    public static Option<string?> ImageSizeOption() => new("--image-size")
    {
        Description = "folder:PATH only: convert every image to HxW (default: the most common size in the folder)",
    };

    public static Option<int> ChannelsOption() => new("--channels")
    {
        Description = "folder:PATH only: 1 (grey) or 3 (RGB) channels (default: 3 when any image is in colour, else 1)",
    };

    /// <summary>The shape asked for by --image-size and --channels; a <see cref="UserError"/> naming the option when it is not one.</summary>
    public static ImageRequest Request(string? size, int channels)
    {
        if (channels is not (0 or 1 or 3)) throw new UserError($"--channels {channels}: images convert to 1 (grey) or 3 (RGB) channels");
        try
        {
            var hw = ImageRequest.ParseSize(size);
            return new ImageRequest(hw?.Height ?? 0, hw?.Width ?? 0, channels);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>Opens a data set, showing an image folder's decoding on stderr and listing the images it skipped.</summary>
    public static DatasetSplit Load(string spec, ImageRequest? request = null)
    {
        DatasetSplit split;
        try
        {
            split = DatasetLoader.Load(spec, request, Progress);
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
        ReportSkipped(split);
        return split;
    }

    /// <summary>Lists up to 10 skipped images on stderr, one line each, and their count.</summary>
    public static void ReportSkipped(DatasetSplit split)
    {
        if (split.Skipped.Count == 0) return;
        Console.Error.WriteLine($"qnn: {split.Skipped.Count} image{(split.Skipped.Count == 1 ? "" : "s")} could not be read and {(split.Skipped.Count == 1 ? "was" : "were")} skipped:");
        foreach (string line in split.Skipped.Take(10)) Console.Error.WriteLine("  " + line);
        if (split.Skipped.Count > 10) Console.Error.WriteLine($"  … and {split.Skipped.Count - 10} more");
    }

    /// <summary>A progress line on stderr: redrawn in place on a terminal, else written once when each step ends.</summary>
    public static readonly IProgress<FetchProgress> Progress = new ProgressLine();

    private sealed class ProgressLine : IProgress<FetchProgress>
    {
        private long _last;

        public void Report(FetchProgress p)
        {
            bool end = p.Done >= p.Total;
            long now = Environment.TickCount64;
            if (!end && now - _last < 200) return;
            _last = now;
            if (Console.IsErrorRedirected)
            {
                if (end && p.Total >= 100) Console.Error.WriteLine($"{p.Step}: {p.Total:N0} done");
                return;
            }
            int filled = (int)(30 * p.Done / Math.Max(1, p.Total));
            Console.Error.Write($"\r{p.Step} [{new string('#', filled)}{new string('.', 30 - filled)}] {p.Done:N0}/{p.Total:N0}");
            if (end) Console.Error.WriteLine();
        }
    }
}
