#:project ../../format/Qnn.Format/Qnn.Format.csproj
// A random sequence model of a chosen shape (SPEC 1.10), for timing the runtimes: a network's speed depends on its
// shape, not on what it learned. Usage: dotnet run bench/tools/random-lm.cs -- OUT.qnn V E H [lstm|gru] [m k g s] [layers]
using Qnn.Format;

if (args.Length < 4) { Console.Error.WriteLine("usage: random-lm OUT.qnn V E H [lstm|gru] [m k g s] [layers]"); return 1; }
int V = int.Parse(args[1]), E = int.Parse(args[2]), H = int.Parse(args[3]);
var kind = args.Length > 4 && args[4] == "gru" ? LayerKind.Gru : LayerKind.Lstm;
int[] bits = args.Length > 8 ? args[5..9].Select(int.Parse).ToArray() : [4, 4, 4, 4];
int layers = args.Length > 9 ? int.Parse(args[9]) : 1;
var model = RandomLayers.SequenceModel(new Random(1), V, E, Enumerable.Repeat(kind, layers).ToArray(), H, bits[0], bits[1], bits[2], bits[3]);
model.MetadataKeys = ["dataset", "arch"];
model.MetadataValues = ["random", $"random {kind} V={V} E={E} H={H} m,k,g,s={string.Join(",", bits)} layers={layers}"];
ModelWriter.WriteFile(model, args[0]);
Console.WriteLine($"{args[0]}: model id {model.ModelId:x16}");
return 0;
