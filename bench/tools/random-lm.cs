#:project ../../format/Qnn.Format/Qnn.Format.csproj
#:project ../../datasets/Qnn.Datasets/Qnn.Datasets.csproj
#:property PublishAot=false
// A random sequence model of a chosen shape (SPEC 1.10), for timing and checking the runtimes: a network's speed
// depends on its shape, not on what it learned. V is a vocabulary size, or a text corpus (brown, ptb:PATH, text:PATH)
// whose vocabulary becomes the labels, so that `qnn verify LM --dataset` reads it.
// Usage: dotnet run bench/tools/random-lm.cs -- OUT.qnn V E H [lstm|gru] [m k g s] [layers]
using Qnn.Datasets;
using Qnn.Format;

if (args.Length < 4) { Console.Error.WriteLine("usage: random-lm OUT.qnn V|CORPUS E H [lstm|gru] [m k g s] [layers]"); return 1; }
TextCorpus? corpus = TextCorpusLoader.IsText(args[1]) ? TextCorpusLoader.Load(args[1]) : null;
int V = corpus?.Vocabulary.Count ?? int.Parse(args[1]), E = int.Parse(args[2]), H = int.Parse(args[3]);
var kind = args.Length > 4 && args[4] == "gru" ? LayerKind.Gru : LayerKind.Lstm;
int[] bits = args.Length > 8 ? args[5..9].Select(int.Parse).ToArray() : [4, 4, 4, 4];
int layers = args.Length > 9 ? int.Parse(args[9]) : 1;
var model = RandomLayers.SequenceModel(new Random(1), V, E, Enumerable.Repeat(kind, layers).ToArray(), H, bits[0], bits[1], bits[2], bits[3]);
if (corpus is not null)
    model.Labels = corpus.Vocabulary.Select(w => System.Text.Encoding.UTF8.GetByteCount(w) <= 63 ? w : new string(w.TakeWhile((_, i) => System.Text.Encoding.UTF8.GetByteCount(w[..(i + 1)]) <= 63).ToArray())).ToArray();
model.MetadataKeys = ["dataset", "arch"];
model.MetadataValues = [corpus?.Name ?? "random", $"random {kind} V={V} E={E} H={H} m,k,g,s={string.Join(",", bits)} layers={layers}"];
ModelWriter.WriteFile(model, args[0]);
Console.WriteLine($"{args[0]}: model id {model.ModelId:x16}");
return 0;
