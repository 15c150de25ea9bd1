namespace Qnn.Trainer.Training;

/// <summary>The training curves as a PNG (ScottPlot 5): losses on the left axis, accuracies (%) on the right.</summary>
public static class TrainingPlot
{
    public static void Save(string path, IReadOnlyList<EpochRecord> history, string title)
    {
        var plot = new ScottPlot.Plot();
        double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
        void Line(Func<EpochRecord, double> f, string label, bool right)
        {
            var ys = history.Select(f).ToArray();
            if (ys.All(double.IsNaN)) return;
            var s = plot.Add.Scatter(epochs, ys);
            s.LegendText = label;
            if (right) s.Axes.YAxis = plot.Axes.Right;
        }
        Line(h => h.TrainLoss, "train loss", false);
        Line(h => h.ValLoss, "validation loss", false);
        Line(h => 100 * h.TrainAccuracy, "train accuracy %", true);
        Line(h => 100 * h.ValAccuracy, "validation accuracy %", true);
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "accuracy %";
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        Qnn.Format.OutputFile.WriteAllBytes(path, plot.GetImageBytes(900, 540, ScottPlot.ImageFormat.Png));
    }
}
