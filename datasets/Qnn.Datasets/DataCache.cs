namespace Qnn.Datasets;

/// <summary>Where data sets are cached: $QNN_DATA, else $XDG_CACHE_HOME/qnn, else ~/.cache/qnn.</summary>
public static class DataCache
{
    public static string Root
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("QNN_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(baseDir, "qnn");
        }
    }

    public static string MnistDirectory => Path.Combine(Root, "mnist");

    /// <summary>Where `qnn data fetch cifar10 --from cifar-10-binary.tar.gz` puts the batches; `--dataset cifar10` reads it.</summary>
    public static string Cifar10Directory => Path.Combine(Root, "cifar10");
}
