namespace Qnn.Devices.RaspberryPi;

/// <summary>One inference: where the image came from, the predicted class and how long each step took.</summary>
public sealed record Classification(
    string Source,
    int Class,
    string? Label,
    int[] Scores,
    TimeSpan Preprocess,
    TimeSpan Inference)
{
    /// <summary>What the displays show: the label when the model has labels, else the class index.</summary>
    public string Name => string.IsNullOrEmpty(Label) ? Class.ToString(System.Globalization.CultureInfo.InvariantCulture) : Label;
}
