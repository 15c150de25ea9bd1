using System.CommandLine;
using Qnn.Devices.Fleet;
using Qnn.Format;

namespace Qnn.Cli.Commands;

/// <summary>`qnn fleet keygen --out fleet.key`: an ECDSA P-256 key pair; the private key signs pushes, FILE.pub goes on every device.</summary>
public static class FleetKeygenCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "The private key file to write (PKCS#8 PEM); the public key goes to the same path + .pub.", Required = true };
        var command = new Command("keygen", "Make the fleet's signing key pair (ECDSA P-256): the private key for qnn fleet push, the .pub for the devices.");
        command.Options.Add(output);
        command.SetAction(parse => Cli.Run("fleet keygen", () =>
        {
            string path = parse.GetValue(output)!;
            string pub = path + ".pub";
            OutputFile.CheckAll([("--out", path), ("--out (.pub)", pub)], []);
            var (privatePem, publicPem) = FleetKeys.Generate();
            OutputFile.WriteAllText(pub, publicPem);
            OutputFile.WriteAllText(path, privatePem);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Console.Out.WriteLine($"wrote {path} (private: keep it on the host that pushes) and {pub} (public: --fleet-key on every device)");
            return 0;
        }));
        return command;
    }
}
