#:project ../../format/Qnn.Format/Qnn.Format.csproj
#:property PublishAot=false
// A copy of a model whose Dense and Conv2D layers keep only a share of unique filters: every later filter repeats an
// earlier one or its negation (FilterRepetitions.Negate), each keeping its own thresholds. For timing the fast path's
// filter sharing (FilterSharing) on a network of a trained model's shape: the accuracy of the copy means nothing.
// Usage: dotnet run bench/tools/plant-repeats.cs -- IN.qnn OUT.qnn UNIQUE_SHARE [seed]     (UNIQUE_SHARE e.g. 0.42)
using Qnn.Format;

var model = ModelFile.Load(args[0]);
double share = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var rng = new Random(args.Length > 3 ? int.Parse(args[3]) : 1);
foreach (var l in model.Layers.Where(FilterRepetitions.HasFilters))
{
    int fw = l.FilterWords, unique = Math.Max(1, (int)Math.Ceiling(share * l.OutC));
    var w = l.Weights!;
    for (int f = unique; f < l.OutC; f++)
    {
        var source = w.AsSpan(rng.Next(0, unique) * fw, fw);
        if (rng.Next(2) == 0) source.CopyTo(w.AsSpan(f * fw, fw));
        else FilterRepetitions.Negate(l, source, w.AsSpan(f * fw, fw));
    }
    Console.WriteLine($"{ModelValidator.KindName(l.Kind)} {l.OutC} filters: {FilterRepetitions.MapOf(l)!.Unique} unique up to sign");
}
model.MetadataKeys = [.. model.MetadataKeys, "planted"];
model.MetadataValues = [.. model.MetadataValues, $"filter repetitions planted by bench/tools/plant-repeats.cs, {share} unique"];
ModelWriter.WriteFile(model, args[1]);
Console.WriteLine($"{args[1]}: model id {model.ModelId:x16}");
return 0;
