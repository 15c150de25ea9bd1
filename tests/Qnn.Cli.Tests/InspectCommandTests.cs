using System.Text.Json;
using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>`qnn inspect` run in-process on models written here.</summary>
[Collection(nameof(ConsoleCollection))]
public class InspectCommandTests
{
    [Fact]
    public void Inspect_json_summarizes_a_model_written_by_the_test()
    {
        using var tmp = new TempFolder();
        string path = Environment.GetEnvironmentVariable("QNN_TEST_MODEL_OUT") is { Length: > 0 } keep ? keep : tmp.File("mnist-like.qnn");
        var model = ConvNets.MnistLike();
        ModelWriter.WriteFile(model, path);

        var (exit, stdout, stderr) = QnnCommand.Run("inspect", path, "--json");
        Assert.True(exit == 0, stderr);
        var j = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(new FileInfo(path).Length, j.GetProperty("fileBytes").GetInt64());
        Assert.Equal("1.1", j.GetProperty("version").GetString());
        Assert.Equal($"{model.ModelId:x16}", j.GetProperty("modelId").GetString());
        Assert.True(j.GetProperty("modelIdMatches").GetBoolean());
        Assert.Equal("ok (header and 8 sections)", j.GetProperty("crc").GetString());
        Assert.Equal([28, 28, 1], j.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(["invert", "center"], j.GetProperty("preprocess").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(10, j.GetProperty("labels").GetArrayLength());
        Assert.Equal("mnist", j.GetProperty("metadata").GetProperty("dataset").GetString());

        var layers = j.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["Conv2D", "Conv2D", "MaxPool2D", "Dense", "Dense"], layers.Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal([14, 14, 16], layers[0].GetProperty("output").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([2, 2, 2, 2], layers[0].GetProperty("pool").EnumerateArray().Select(e => e.GetInt32()));
        // Conv 1: 16 filters of 3x3x1 at 28x28 positions before the pool; 8-bit unsigned input, so not binary.
        Assert.Equal(16 * 9, layers[0].GetProperty("weights").GetInt64());
        Assert.Equal(28L * 28 * 16 * 9, layers[0].GetProperty("macs").GetInt64());
        Assert.False(layers[0].GetProperty("binary").GetBoolean());
        // Conv 2: 32 filters of 3x3 positions, 16 channels in one padded word each: 32*9 words.
        Assert.Equal(32 * 9 * 4, layers[1].GetProperty("weightBytes").GetInt64());
        Assert.True(layers[1].GetProperty("binary").GetBoolean());
        Assert.Equal(32, layers[1].GetProperty("thresholds").GetInt32());
        Assert.Equal(10, layers[4].GetProperty("scores").GetInt32());
        Assert.False(layers[4].GetProperty("binary").GetBoolean());   // 2-bit weights

        // Filter repetitions (BNN paper section 5): equal bit-planes, and equal up to the sign.
        var conv2 = model.Layers[1];
        var distinct = Enumerable.Range(0, conv2.OutC).Select(f => string.Join(",", conv2.Weights!.Skip(f * conv2.FilterWords).Take(conv2.FilterWords))).Distinct().Count();
        Assert.Equal(distinct, layers[1].GetProperty("uniqueFilters").GetInt32());
        Assert.InRange(layers[1].GetProperty("uniqueFiltersUpToSign").GetInt32(), (distinct + 1) / 2, distinct);

        var totals = j.GetProperty("totals");
        long weights = 16 * 9 + 32 * 9 * 16 + 7 * 7 * 32 * 100 + 100 * 10;
        Assert.Equal(weights, totals.GetProperty("weights").GetInt64());
        Assert.Equal(4 * weights, totals.GetProperty("float32Bytes").GetInt64());
        Assert.Equal(Math.Round(4.0 * weights / new FileInfo(path).Length, 2), totals.GetProperty("compressionRatio").GetDouble());
        long macs = 28L * 28 * 16 * 9 + 14L * 14 * 32 * 9 * 16 + 7 * 7 * 32 * 100 + 100 * 10;
        long binary = 14L * 14 * 32 * 9 * 16 + 7 * 7 * 32 * 100;
        Assert.Equal(macs, totals.GetProperty("macs").GetInt64());
        Assert.Equal(Math.Round((double)binary / macs, 4), totals.GetProperty("binaryMacShare").GetDouble());
    }

    [Fact]
    public void Filter_repetitions_count_planted_copies_and_negations()
    {
        var conv = ConvNets.MnistLike().Layers[1];              // 32 filters of 3x3x16: one word per position, 16 valid bits
        int fw = conv.FilterWords;
        var w = conv.Weights!;
        for (int j = 0; j < fw; j++)
        {
            w[j] = (uint)(0x1234 + 7 * j) & 0xFFFF;
            w[fw + j] = w[j];                                    // filter 1 repeats filter 0
            w[2 * fw + j] = ~w[j] & 0xFFFF;                      // filter 2 is its negation
        }
        for (int f = 3; f < conv.OutC; f++)
            for (int j = 0; j < fw; j++) w[f * fw + j] = (uint)(f * 131 + j * 17) & 0xFFFF;   // all different
        var count = FilterRepetitions.Of(conv)!;
        Assert.Equal(32, count.Filters);
        Assert.Equal(31, count.Unique);
        Assert.Equal(30, count.UniqueUpToSign);
        Assert.Null(FilterRepetitions.Of(ConvNets.MnistLike().Layers[2]));   // the max-pool
        // 2D kernels: filter 0's 3x3 slices on its 16 channels, and their negations in filter 2.
        Assert.Equal(32 * 16, count.Kernels2D);
        Assert.InRange(count.UniqueKernels2D, 1, 512);
        Assert.True(count.UniqueKernels2DUpToSign <= count.UniqueKernels2D);
        var single = ConvNets.MnistLike().Layers[1];
        Array.Clear(single.Weights!);                            // every kernel is all −1: one 2D kernel, one filter
        var none = FilterRepetitions.Of(single)!;
        Assert.Equal((1, 1, 1, 1), (none.Unique, none.UniqueUpToSign, none.UniqueKernels2D, none.UniqueKernels2DUpToSign));
    }

    /// <summary>`qnn inspect` says which layers the fast path shares (FilterSharing) and why the others are not.</summary>
    [Fact]
    public void Inspect_says_which_layers_the_fast_path_shares()
    {
        var model = ConvNets.MnistLike();
        var dense = model.Layers[3];                             // 100 filters over 7x7x32: 25 popcount words each
        int fw = dense.FilterWords;
        for (int f = 1; f < dense.OutC; f++)
            if (f % 2 == 0) Array.Copy(dense.Weights!, 0, dense.Weights!, f * fw, fw);
            else FilterRepetitions.Negate(dense, dense.Weights.AsSpan(0, fw), dense.Weights.AsSpan(f * fw, fw));
        using var tmp = new TempFolder();
        ModelWriter.WriteFile(model, tmp.File("planted.qnn"));
        var json = QnnCommand.Run("inspect", tmp.File("planted.qnn"), "--json");
        var layers = JsonDocument.Parse(json.Out).RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal([false, false, false, true, false], layers.Select(l => l.GetProperty("fastShares").GetBoolean()));
        Assert.Equal((1, 13), (layers[3].GetProperty("fastUnitsShared").GetInt32(), layers[3].GetProperty("fastUnitsAll").GetInt32()));
        var text = QnnCommand.Run("inspect", tmp.File("planted.qnn")).Out.ReplaceLineEndings(" ");
        Assert.Contains("layer 3 Dense: 1 of 100 filters unique up to sign; the fast path shares them: computes 1 of 13 units of 8 filters", string.Join(" ", text.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Log_weights_are_marked_and_their_negation_flips_only_the_sign_plane()
    {
        // A 3-bit log conv (SPEC 1.3): plane 0 the sign, planes 1-2 the exponent.
        var conv = LayerFactory.Conv2D(6, 6, 16, 4, 3, 3, 1, 0, 3, 1, true, OutputKind.Thresholds, 1, weightCode: WeightCode.Log);
        RandomLayers.Fill(new Random(3), conv);
        int fw = conv.FilterWords, plane = fw / 3;
        var w = conv.Weights!;
        for (int j = 0; j < fw; j++)
        {
            w[j] = (uint)(0x1234 + 7 * j) & 0xFFFF;
            w[fw + j] = j < plane ? ~w[j] & 0xFFFF : w[j];      // filter 1: filter 0 with every sign flipped (its negation)
            w[2 * fw + j] = ~w[j] & 0xFFFF;                       // filter 2: every plane complemented, not a negation here
            w[3 * fw + j] = (uint)(j * 977 + 5) & 0xFFFF;
        }
        var count = FilterRepetitions.Of(conv)!;
        Assert.Equal((4, 4, 3), (count.Filters, count.Unique, count.UniqueUpToSign));

        using var tmp = new TempFolder();
        var first = LayerFactory.Dense(1, 1, 40, 8, 3, 8, false, OutputKind.Thresholds, 1, WeightCode.Log);
        var head = LayerFactory.Dense(1, 1, 8, 3, 2, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel { InputHeight = 1, InputWidth = 1, InputChannels = 40, InputBits = 8, ClassCount = 3, Layers = [first, head] };
        foreach (var l in model.Layers) RandomLayers.Fill(new Random(4), l);
        ModelWriter.WriteFile(model, tmp.File("log.qnn"));
        var json = QnnCommand.Run("inspect", tmp.File("log.qnn"), "--json");
        var layers = JsonDocument.Parse(json.Out).RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["log", "odd"], layers.Select(l => l.GetProperty("weightCode").GetString()));
        var text = QnnCommand.Run("inspect", tmp.File("log.qnn"));
        Assert.Contains("3L·8u→1", text.Out);
    }

    [Fact]
    public void Inspect_prints_a_table_with_a_row_per_layer()
    {
        using var tmp = new TempFolder();
        ModelWriter.WriteFile(ConvNets.MnistLike(), tmp.File("m.qnn"));
        var (exit, stdout, _) = QnnCommand.Run("inspect", tmp.File("m.qnn"));
        Assert.Equal(0, exit);
        Assert.Contains("recomputed: matches", stdout);
        Assert.Contains("MaxPool2D", stdout);
        Assert.Contains("binary (1-bit x 1-bit) MACs", stdout);
        Assert.Contains("metadata: dataset=mnist", stdout);
    }

    [Fact]
    public void A_corrupt_model_gives_exit_1_and_one_line_naming_the_file()
    {
        using var tmp = new TempFolder();
        byte[] bytes = ModelWriter.Write(ConvNets.MnistLike());
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(tmp.File("bad.qnn"), bytes);
        var (exit, stdout, stderr) = QnnCommand.Run("inspect", tmp.File("bad.qnn"), "--json");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Matches($"^qnn inspect: {System.Text.RegularExpressions.Regex.Escape(tmp.File("bad.qnn"))}: section \\d+ \\(LAYER\\): CRC mismatch .*\\n$", stderr.Replace("\r", ""));
        Assert.Single(stderr.TrimEnd().Split('\n'));

        var missing = QnnCommand.Run("inspect", tmp.File("none.qnn"));
        Assert.Equal((1, $"qnn inspect: {tmp.File("none.qnn")}: no such file"), (missing.ExitCode, missing.Error.Trim()));
    }
}
