using System.Reflection;
using System.Runtime.Loader;
using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Benchmarks.Portable;

/// <summary>
/// `qnn bench portable`: the cost of the portable core on an IL interpreter such as nanoCLR, as the exact number of
/// IL instructions executed (<see cref="IlInstructionCounter"/>) by the current <see cref="Interpreter"/> and by
/// version 1 (<see cref="V1.InterpreterV1"/>), on the same model and images in the same run. Qnn.Format.dll,
/// Qnn.Runtime.Edge.dll and version 1's types are instrumented into a temporary folder and loaded into a collectible
/// load context of their own; both versions' scores are compared on every image before anything is reported.
/// </summary>
public static class PortableCost
{
    public sealed record Version(string Name, long LoadInstructions, double RunInstructionsMean, long RunInstructionsMin, long RunInstructionsMax,
        IReadOnlyList<double> LayerInstructionsMean);

    public sealed record Result(int Images, int ScoresCompared, Version Before, Version After, double Ratio, IReadOnlyList<double> LayerRatios);

    public static Result Measure(byte[] modelBytes, IReadOnlyList<byte[]> images)
    {
        string folder = Path.Combine(Path.GetTempPath(), "qnn-ilcount-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            var paths = new Dictionary<string, string>();
            void Copy(Assembly a, Func<Mono.Cecil.TypeDefinition, bool> include)
            {
                string name = a.GetName().Name!;
                string to = Path.Combine(folder, name + ".dll");
                IlInstructionCounter.Instrument(a.Location, to, include);
                paths[name] = to;
            }
            Copy(typeof(QnnModel).Assembly, _ => true);
            Copy(typeof(Interpreter).Assembly, _ => true);
            Copy(typeof(PortableCost).Assembly, t => t.Namespace == typeof(V1.InterpreterV1).Namespace);
            return MeasureIn(new InstrumentedContext(paths), modelBytes, images);
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            try { Directory.Delete(folder, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static Result MeasureIn(InstrumentedContext context, byte[] modelBytes, IReadOnlyList<byte[]> images)
    {
        try
        {
            var counters = context.Loaded.Select(a => a.GetType(IlInstructionCounter.CounterTypeName)!.GetField(IlInstructionCounter.CounterFieldName)!).ToArray();
            long Count() => counters.Sum(f => (long)f.GetValue(null)!);
            Type probe = context.Loaded.Single(a => a.GetName().Name == typeof(PortableCost).Assembly.GetName().Name).GetType(typeof(Probe).FullName!)!;
            MethodInfo load = probe.GetMethod(nameof(Probe.Load))!, run = probe.GetMethod(nameof(Probe.Run))!;

            Version Measure(string name, int version, List<int[]> scores)
            {
                long start = Count();
                object interpreter = load.Invoke(null, [modelBytes, version])!;
                long loaded = Count() - start;
                int classes = (int)probe.GetMethod(nameof(Probe.Classes))!.Invoke(null, [interpreter])!;
                int layers = (int)probe.GetMethod(nameof(Probe.Layers))!.Invoke(null, [interpreter])!;
                var runs = new long[images.Count];
                for (int s = 0; s < images.Count; s++)
                {
                    var sc = new int[classes];
                    long before = Count();
                    run.Invoke(null, [interpreter, images[s], sc, null]);
                    runs[s] = Count() - before;
                    scores.Add(sc);
                }
                // Per layer, in a second pass with an observer (which adds the few instructions of its call).
                var perLayer = new double[layers];
                long mark = 0;
                Action<int> seen = layer => { long now = Count(); perLayer[layer] += now - mark; mark = now; };
                foreach (var image in images)
                {
                    mark = Count();
                    run.Invoke(null, [interpreter, image, new int[classes], seen]);
                }
                return new Version(name, loaded, runs.Average(), runs.Min(), runs.Max(), perLayer.Select(x => Math.Round(x / images.Count, 1)).ToArray());
            }

            var beforeScores = new List<int[]>();
            var afterScores = new List<int[]>();
            var before = Measure("version 1 (bit-planes, 2026-12-02)", 1, beforeScores);
            var after = Measure("current", 2, afterScores);
            for (int s = 0; s < images.Count; s++)
                if (!beforeScores[s].SequenceEqual(afterScores[s]))
                    throw new InvalidOperationException($"image {s}: version 1 and the current interpreter give different scores");
            var layerRatios = before.LayerInstructionsMean.Zip(after.LayerInstructionsMean, (b, a) => a > 0 ? Math.Round(b / a, 2) : 0).ToArray();
            return new Result(images.Count, images.Count, before, after, Math.Round(before.RunInstructionsMean / after.RunInstructionsMean, 2), layerRatios);
        }
        finally { context.Unload(); }
    }

    /// <summary>The calls made inside the instrumented load context (this type itself is not instrumented).</summary>
    public static class Probe
    {
        public static object Load(byte[] model, int version)
        {
            QnnModel m = ModelReader.Read(new ArraySource(model));
            return version == 1 ? new V1.InterpreterV1(m) : new Interpreter(m);
        }

        public static int Classes(object interpreter) =>
            interpreter is V1.InterpreterV1 v1 ? v1.Model.ClassCount : ((Interpreter)interpreter).Model.ClassCount;

        public static int Layers(object interpreter) =>
            interpreter is V1.InterpreterV1 v1 ? v1.Model.Layers.Length : ((Interpreter)interpreter).Model.Layers.Length;

        public static int Run(object interpreter, byte[] image, int[] scores, Action<int>? afterLayer)
        {
            var observer = afterLayer == null ? null : new Seen(afterLayer);
            if (interpreter is V1.InterpreterV1 v1)
            {
                v1.Observer = observer;
                return v1.Run(image, scores);
            }
            var current = (Interpreter)interpreter;
            current.Observer = observer;
            return current.Run(image, scores);
        }

        private sealed class Seen(Action<int> afterLayer) : LayerObserver
        {
            public override void OnLayer(int layer, uint[] words, int wordCount) => afterLayer(layer);
        }
    }

    private sealed class InstrumentedContext : AssemblyLoadContext
    {
        private readonly Dictionary<string, string> _paths;
        public readonly List<Assembly> Loaded = new();

        public InstrumentedContext(Dictionary<string, string> paths) : base("qnn-ilcount", isCollectible: true)
        {
            _paths = paths;
            foreach (var path in paths.Values) Loaded.Add(LoadFromAssemblyPath(path));
        }

        protected override Assembly? Load(AssemblyName name) =>
            name.Name != null && _paths.ContainsKey(name.Name) ? Loaded.FirstOrDefault(a => a.GetName().Name == name.Name) ?? LoadFromAssemblyPath(_paths[name.Name]) : null;
    }
}
