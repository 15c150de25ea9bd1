using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>`qnn fleet` given bad input: one line naming the option or file, exit 1, no stack trace; no broker needed.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FleetCommandErrorTests : TempFolderTest
{
    private void OneLine(ConsoleCapture.Result run, string start)
    {
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith(start, run.Error);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Bad_broker_group_key_model_and_unreachable_broker_are_one_line_errors()
    {
        string model = Temp.File("m.qnn");
        ModelWriter.WriteFile(Mlps.Micro(1), model);
        string key = Temp.File("fleet.key");
        Assert.Equal(0, QnnCommand.Run("fleet", "keygen", "--out", key).ExitCode);
        OneLine(QnnCommand.Run("fleet", "keygen", "--out", Temp.Path), "qnn fleet keygen: ");

        OneLine(QnnCommand.Run("fleet", "status", "--broker", "http://x:1", "--group", "g"), "qnn fleet status: --broker http://x:1: expected mqtt://HOST:PORT");
        OneLine(QnnCommand.Run("fleet", "status", "--broker", "mqtt://127.0.0.1:1", "--group", "a/b"), "qnn fleet status: --group a/b: use 1-64");
        OneLine(QnnCommand.Run("fleet", "status", "--broker", "mqtt://127.0.0.1:1", "--group", "g", "--watch", "0"), "qnn fleet status: --watch: 0 is outside 0.1-3600 seconds");
        OneLine(QnnCommand.Run("fleet", "status", "--broker", "mqtt://127.0.0.1:1", "--group", "g", "--watch", "1", "--json"), "qnn fleet status: --watch: a live table cannot be JSON");
        OneLine(QnnCommand.Run("fleet", "status", "--broker", "mqtt://127.0.0.1:1", "--group", "g", "--until-agree"), "qnn fleet status: --until-agree and --timeout go with --watch");
        OneLine(QnnCommand.Run("fleet", "push", model, "--group", "g", "--key", Temp.File("none.key")), $"qnn fleet push: {Temp.File("none.key")}: no such file");
        OneLine(QnnCommand.Run("fleet", "push", model, "--group", "g", "--key", key + ".pub"), $"qnn fleet push: {key}.pub: a public key");
        OneLine(QnnCommand.Run("fleet", "push", model, "--group", "g", "--key", key, "--canary", "0"), "qnn fleet push: --canary");
        OneLine(QnnCommand.Run("fleet", "push", model, "--group", "g", "--key", key, "--chunk-size", "1000"), "qnn fleet push: --chunk-size 1000: not a power of two");
        OneLine(QnnCommand.Run("fleet", "push", Temp.File("none.qnn"), "--group", "g", "--key", key), $"qnn fleet push: {Temp.File("none.qnn")}");
        OneLine(QnnCommand.Run("fleet", "rollback", "--broker", "mqtt://127.0.0.1:1", "--group", "g"), "qnn fleet rollback: --broker mqtt://127.0.0.1:1: cannot connect");
    }
}
