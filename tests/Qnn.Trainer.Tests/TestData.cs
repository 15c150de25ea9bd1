using Qnn.Datasets;

namespace Qnn.Trainer.Tests;

/// <summary>Real MNIST for the end-to-end tests: the cache, fetched once (qnn data fetch mnist) when absent.</summary>
public static class TestData
{
    private static readonly Lazy<DatasetSplit> mnist = new(() =>
    {
        if (DatasetLoader.MnistCacheProblem(DataCache.MnistDirectory) is not null)
            new MnistFetcher(new FetchOptions(DataCache.MnistDirectory)).Fetch();
        return DatasetLoader.Load("mnist");
    });

    public static DatasetSplit Mnist => mnist.Value;
}
