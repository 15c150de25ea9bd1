namespace Qnn.Format.Tests;

/// <summary>Tests that redirect the process's console run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;
