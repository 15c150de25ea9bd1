using System.CommandLine;
using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Edge.Imaging;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn run MODEL --input FILE [--runtime portable|fast] [--json]`: classifies one image (PNG, JPEG, PGM/PBM/PPM,
/// BMP, or raw H·W·C bytes) with the edge runtime, converted as the model's header says (<see cref="ImageInput"/>).
/// `qnn run LM --prompt TEXT [--tokens N] [--sample --seed S --temperature T]`: a sequence model (SPEC 1.10) reads the
/// prompt and generates N tokens (<see cref="Generate"/>).
/// </summary>
public static class RunCommand
{
    public sealed record Result(string Model, string Input, string InputKind, string Runtime, int Class, string? Label,
        int[] Scores, double InferenceMicroseconds);

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var input = new Option<string>("--input") { Description = "Image file (PNG, JPEG, PGM/PBM/PPM, BMP) or raw H*W*C bytes (image models)." };
        var prompt = new Option<string>("--prompt") { Description = "Sequence models: the text to continue (words of the model's labels, lower case; unknown words are <unk>)." };
        var tokens = new Option<int>("--tokens") { Description = "Sequence models: tokens to generate (1-10000).", DefaultValueFactory = _ => 20 };
        var sample = new Option<bool>("--sample") { Description = "Sequence models: sample from softmax(score_scale * score / temperature) instead of the highest score." };
        var seed = new Option<int>("--seed") { Description = "--sample: the random seed.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<double>("--temperature") { Description = "--sample: the softmax temperature (> 0).", DefaultValueFactory = _ => 1.0 };
        var allowUnk = new Option<bool>("--allow-unk") { Description = "Sequence models: let the generated text contain <unk> (by default the best token other than <unk> is taken, and sampling never draws it)." };
        var runtime = new Option<string>("--runtime") { Description = "portable (the bitwise reference interpreter) or fast (the .NET fast path).", DefaultValueFactory = _ => "fast" };
        runtime.AcceptOnlyFromAmong("portable", "fast");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("run", "Classify an image with the edge runtime (class, scores, time), or continue a prompt with a sequence model.");
        command.Arguments.Add(model);
        foreach (Option o in new Option[] { input, prompt, tokens, sample, seed, temperature, allowUnk, runtime, json }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("run", () =>
        {
            string modelPath = parse.GetValue(model)!, which = parse.GetValue(runtime)!;
            QnnModel m = ModelFile.Load(modelPath);
            if (m.Layers[0].Kind == LayerKind.Embedding)
            {
                if (parse.GetValue(input) is not null) throw new UserError($"--input: {modelPath} is a sequence model; give --prompt");
                string text = parse.GetValue(prompt) ?? throw new UserError($"--prompt: {modelPath} is a sequence model and needs a prompt");
                int n = parse.GetValue(tokens);
                if (n < 1 || n > 10000) throw new UserError($"--tokens must be 1 to 10000 (not {n})");
                double t = parse.GetValue(temperature);
                if (!(t > 0) || double.IsInfinity(t)) throw new UserError($"--temperature must be a positive number (not {t})");
                var generated = Generate(m, modelPath, text, n, which, parse.GetValue(sample) ? new Random(parse.GetValue(seed)) : null, t, parse.GetValue(allowUnk));
                if (parse.GetValue(json)) Cli.PrintJson(generated);
                else
                {
                    Cli.Out.WriteLine(generated.Text);
                    Console.Error.WriteLine($"qnn run: {generated.Tokens.Length} tokens generated after {generated.PromptTokens.Length} of the prompt, " +
                        $"{generated.TokensPerSecond:0} tokens/s ({which} runtime, {(generated.Sampled ? "sampled" : "greedy")})");
                }
                return 0;
            }
            if (parse.GetValue(prompt) is not null) throw new UserError($"--prompt: {modelPath} is an image model; give --input");
            string inputPath = parse.GetValue(input) ?? throw new UserError("--input: give the image to classify");
            byte[] pixels = ImageInput.Load(inputPath, m, modelPath, out var kind);
            var result = Classify(m, pixels, which) with { Model = modelPath, Input = inputPath, InputKind = kind == ImageInput.Source.Raw ? "raw" : "image" };
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else Render(result, m.Labels);
            return 0;
        }));
        return command;
    }

    public sealed record Generation(string Model, string Prompt, int[] PromptTokens, int[] Tokens, string Text, string Runtime, bool Sampled,
        double TokensPerSecond);

    /// <summary>
    /// Reads the prompt (encoded with the model's labels: lower case, split on whitespace, an unknown word as
    /// &lt;unk&gt; where the labels have it; one character per token when the model's dataset is text:PATH), then
    /// generates <paramref name="count"/> tokens, each fed back: the highest score (lowest index on ties), or with
    /// <paramref name="sampler"/> a draw from softmax(score_scale · score / temperature). Unless
    /// <paramref name="allowUnk"/>, &lt;unk&gt; is never generated: the best other token is taken (a model trained
    /// briefly predicts &lt;unk&gt;, the most frequent token of a 10,000-word vocabulary, after almost anything).
    /// </summary>
    public static Generation Generate(QnnModel m, string modelPath, string prompt, int count, string runtime, Random? sampler, double temperature, bool allowUnk = false)
    {
        string[] labels = m.Labels ?? throw new UserError($"{modelPath}: no LABELS section, so no vocabulary to read a prompt with");
        bool characters = m.GetMetadata("dataset") is { } d && d.StartsWith("text:", StringComparison.Ordinal);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Length; i++) ids.TryAdd(labels[i], i);
        int unk = ids.TryGetValue("<unk>", out int u) ? u : -1;
        string[] pieces = characters ? prompt.EnumerateRunes().Select(r => r.ToString()).ToArray()
            : prompt.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (pieces.Length == 0) throw new UserError("--prompt is empty");
        int[] promptTokens = pieces.Select(p => ids.TryGetValue(p, out int id) ? id
            : unk >= 0 ? unk : throw new UserError($"--prompt: \"{p}\" is not in {modelPath}'s vocabulary (which has no <unk>)")).ToArray();
        double scale = 1;
        if (sampler is not null)
        {
            string? text = m.GetMetadata("score_scale");
            if (text is null || !double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out scale) || !(scale > 0))
                throw new UserError($"--sample: {modelPath} has no positive score_scale metadata (SPEC 1.10) to turn scores into probabilities");
        }
        var scores = new int[m.ClassCount];
        Func<int, int> step;
        if (runtime == "portable")
        {
            var s = new SequenceInterpreter(m);
            step = t => s.Step(t, scores);
        }
        else
        {
            var f = new FastSequenceInterpreter(m);
            step = t => f.Step(t, scores);
        }
        var output = new int[count];
        long start = Stopwatch.GetTimestamp();
        int next = 0;
        foreach (int t in promptTokens) next = step(t);
        var weights = new double[m.ClassCount];
        for (int i = 0; i < count; i++)
        {
            int banned = allowUnk ? -1 : unk;
            if (sampler is not null) next = Sample(scores, scale / temperature, sampler, weights, banned);
            else if (next == banned) next = BestExcept(scores, weights.Length, banned);
            output[i] = next;
            if (i + 1 < count) next = step(next);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int steps = promptTokens.Length + count - 1;
        IEnumerable<int> all = promptTokens.Concat(output);
        string joined = characters ? string.Concat(all.Select(i => labels[i]))
            : string.Join(" ", all.Select(i => labels[i])).Replace(" <eos> ", "\n").Replace(" <eos>", "\n");
        return new Generation(modelPath, prompt, promptTokens, output, joined, runtime, sampler is not null, Math.Round(steps / Math.Max(seconds, 1e-9), 1));
    }

    /// <summary>A draw from softmax(factor · score): the largest score subtracted first, so exp never overflows.</summary>
    private static int Sample(int[] scores, double factor, Random rng, double[] weights, int banned)
    {
        int best = banned >= 0 ? BestExcept(scores, weights.Length, banned) : Prediction.ArgMax(scores.AsSpan(0, weights.Length));
        double total = 0;
        for (int c = 0; c < weights.Length; c++) total += weights[c] = c == banned ? 0 : Math.Exp(factor * ((double)scores[c] - scores[best]));
        double x = rng.NextDouble() * total;
        for (int c = 0; c < weights.Length; c++)
            if ((x -= weights[c]) < 0) return c;
        return best;
    }

    /// <summary>The highest score among the tokens other than <paramref name="banned"/>, the lowest index on ties.</summary>
    private static int BestExcept(int[] scores, int n, int banned)
    {
        int best = banned == 0 ? 1 : 0;
        for (int c = best + 1; c < n; c++)
            if (c != banned && scores[c] > scores[best]) best = c;
        return best;
    }

    /// <summary>Runs once to warm up (JIT, buffers), then times a second run of the same input.</summary>
    public static Result Classify(QnnModel m, byte[] pixels, string runtime)
    {
        var scores = new int[m.ClassCount];
        Func<int> run;
        if (runtime == "portable")
        {
            var interpreter = new Interpreter(m);
            run = () => interpreter.Run(pixels, scores);
        }
        else
        {
            var fast = new FastInterpreter(m);
            run = () => fast.Run(pixels, scores);
        }
        run();
        long start = Stopwatch.GetTimestamp();
        int predicted = run();
        double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        return new Result("", "", "", runtime, predicted, m.Labels?[predicted], scores, Math.Round(micros, 1));
    }

    private static void Render(Result r, string[]? labels)
    {
        var console = Cli.Out;
        string label = r.Label is { Length: > 0 } ? $" ({Markup.Escape(r.Label)})" : "";
        console.MarkupLine($"[bold]class {r.Class}{label}[/]   {r.InferenceMicroseconds:0.0} µs ({r.Runtime} runtime, {r.InputKind} input)");
        var table = new Table().AddColumn("class").AddColumn(new TableColumn("score").RightAligned());
        for (int c = 0; c < r.Scores.Length; c++)
        {
            string name = c.ToString();
            // Labels come from the model file: escaped so that brackets in a label are printed, not parsed.
            if (labels != null) name += " " + Markup.Escape(labels[c]);
            table.AddRow(c == r.Class ? $"[bold]{name}[/]" : name, c == r.Class ? $"[bold]{r.Scores[c]}[/]" : r.Scores[c].ToString());
        }
        console.Write(table);
    }
}
