namespace Qnn.Devices;

/// <summary>
/// Copies a model (and optionally the published Raspberry Pi app) to a Pi over ssh and restarts the app's
/// systemd unit (devices/raspberry-pi/qnn-classifier.service). Remote paths are relative to the user's home.
/// </summary>
public static class PiDeployment
{
    public const string RemoteFolder = "qnn";
    public const string DefaultService = "qnn-classifier";

    /// <summary>The commands, in order: make the folder, copy the model, replace the app, restart the unit.</summary>
    public static IReadOnlyList<ToolCommand> Commands(string modelPath, string host, string? appFolder, string service)
    {
        if (string.IsNullOrWhiteSpace(host) || host.StartsWith('-'))
            throw new ArgumentException($"--host '{host}' is not a USER@HOST");
        var commands = new List<ToolCommand>
        {
            new("ssh", [host, "mkdir", "-p", RemoteFolder]),
            new("scp", ["-p", Path.GetFullPath(modelPath), $"{host}:{RemoteFolder}/model.qnn"]),
        };
        if (appFolder is not null)
        {
            // scp -r copies a folder under the new name only when that name does not exist yet.
            commands.Add(new("ssh", [host, "rm", "-rf", $"{RemoteFolder}/app"]));
            commands.Add(new("scp", ["-p", "-r", Path.GetFullPath(appFolder), $"{host}:{RemoteFolder}/app"]));
        }
        commands.Add(new("ssh", [host, "sudo", "systemctl", "restart", service]));
        return commands;
    }
}
