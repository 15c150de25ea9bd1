using System.Globalization;

namespace Qnn.Trainer.Training;

/// <summary>
/// The values a numeric option accepts, stated once (in <see cref="TrainOptions.Ranges"/>) and checked before any work
/// starts; <see cref="Problem"/> is the one-line message the CLI prints. <paramref name="Sentinel"/> is a value outside
/// the interval that means something else (0: the architecture's width, -1: its dropout).
/// </summary>
public sealed record OptionRange(string Option, double Min, double Max, bool Integer = true, bool MinOpen = false, bool MaxOpen = false,
    double? Sentinel = null, string? SentinelMeaning = null)
{
    /// <summary>The accepted values in words: "1 to 10000", "a finite number in (0, 1]", with the sentinel after "or".</summary>
    public string Text
    {
        get
        {
            string body = Integer
                ? Max >= int.MaxValue ? $"{N(Min)} or more" : $"{N(Min)} to {N(Max)}"
                : $"a finite number in {(MinOpen ? "(" : "[")}{N(Min)}, {N(Max)}{(MaxOpen ? ")" : "]")}";
            return Sentinel is { } s ? $"{body}, or {N(s)} for {SentinelMeaning}" : body;
        }
    }

    public bool Contains(double value) =>
        (Sentinel is { } s && value == s) ||
        (double.IsFinite(value) && (MinOpen ? value > Min : value >= Min) && (MaxOpen ? value < Max : value <= Max));

    /// <summary>Null when <paramref name="value"/> is accepted, else "--option must be ... (not value)".</summary>
    public string? Problem(double value) => Contains(value) ? null : $"{Option} must be {Text} (not {N(value)})";

    public string? Problem(int value) => Problem((double)value);

    /// <summary>As for a double, with the value written as the float it is (1E+30, not 1.0000000150474662E+30).</summary>
    public string? Problem(float value) => Contains(value) ? null : $"{Option} must be {Text} (not {value.ToString(CultureInfo.InvariantCulture)})";

    private static string N(double v) => v.ToString(CultureInfo.InvariantCulture);
}
