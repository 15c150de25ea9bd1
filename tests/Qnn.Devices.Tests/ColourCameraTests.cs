using Qnn.Devices.RaspberryPi;
using Qnn.Runtime.Edge;
using Qnn.TestSupport;

namespace Qnn.Devices.Tests;

/// <summary>The Raspberry Pi app with a colour model (issue 14): a colour camera frame is read as RGB, C × 8 bit-planes.</summary>
public sealed class ColourCameraTests
{
    [Fact]
    public void A_colour_frame_gives_a_colour_model_the_portable_references_scores_on_its_rgb_pixels()
    {
        var model = ImageModels.Create(seed: 9, channels: 3);
        var rng = new Random(3);
        var classifier = new ModelClassifier(model);
        for (int i = 0; i < 5; i++)
        {
            byte[] pixels = RandomModels.Image(rng, model);
            var expected = new int[model.ClassCount];
            int predicted = new Interpreter(model).Run(pixels, expected);
            var result = classifier.ClassifyPicture(ImageModels.Png(pixels), "camera");
            Assert.Equal(expected, result.Scores);
            Assert.Equal(predicted, result.Class);
        }
    }
}
