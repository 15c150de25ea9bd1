using System.CommandLine;
using Qnn.Devices;
using Qnn.Format;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn flash --target esp32|esp32-psram MODEL [--port P]` checks that the model fits the board (file system and
/// managed heap, devices/Qnn.Devices/DeviceTargets.cs), writes nanoff's file-deployment JSON and runs nanoff, or
/// prints the exact command when nanoff is not installed. `qnn flash --target pi MODEL --host USER@HOST` copies the
/// model (and with --app the published Raspberry Pi app) with scp and restarts the app's systemd unit over ssh, or
/// prints the commands. --dry-run checks, writes the JSON and prints the commands without running anything.
/// </summary>
public static class FlashCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var target = new Option<string>("--target")
        {
            Description = $"The device: {DeviceTargets.Names}.",
            Required = true,
        };
        var port = new Option<string?>("--port") { Description = "ESP32: the serial port of the board (COM3, /dev/ttyUSB0)." };
        var deployJson = new Option<string?>("--deploy-json")
        {
            Description = "ESP32: where to write nanoff's file-deployment JSON (default: MODEL with the extension .nanoff.json).",
        };
        var host = new Option<string?>("--host") { Description = "Pi: USER@HOST to copy to over ssh." };
        var app = new Option<string?>("--app")
        {
            Description = "Pi: the published app folder to copy too (dotnet publish devices/raspberry-pi/Qnn.Devices.RaspberryPi -r linux-arm64).",
        };
        var service = new Option<string>("--service")
        {
            Description = "Pi: the systemd unit to restart.",
            DefaultValueFactory = _ => PiDeployment.DefaultService,
        };
        var inputs = new Option<string[]>("--input")
        {
            Description = "ESP32: raw input images (height*width*channels 8-bit pixels) to deploy beside the model as I:\\NAME.raw; the app classifies each at start.",
            AllowMultipleArgumentsPerToken = true,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the fit, write the deployment JSON and print the commands; run nothing." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };

        var command = new Command("flash", "Check that a model fits a device and deploy it (ESP32 with nanoff, Raspberry Pi with scp and ssh).");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { target, port, deployJson, inputs, host, app, service, dryRun, json }) command.Options.Add(option);
        command.SetAction(parse => Cli.Run("flash", () =>
        {
            string path = parse.GetValue(model)!;
            var request = new FlashRequest(path, parse.GetValue(target)!, parse.GetValue(port), parse.GetValue(deployJson),
                parse.GetValue(inputs) ?? [], parse.GetValue(host), parse.GetValue(app), parse.GetValue(service)!, parse.GetValue(dryRun), parse.GetValue(json));
            return Flash(request);
        }));
        return command;
    }

    private sealed record FlashRequest(string Model, string Target, string? Port, string? DeployJson, string[] Inputs, string? Host,
        string? App, string Service, bool DryRun, bool Json);

    private static int Flash(FlashRequest request)
    {
        // The deployment JSON is written even by a dry run: checked first, never over the model or an input.
        string? deployJson = null;
        if (DeviceTargets.Find(request.Target) is { Kind: TargetKind.Microcontroller })
        {
            deployJson = request.DeployJson ?? Path.ChangeExtension(request.Model, ".nanoff.json");
            OutputFile.CheckAll([("--deploy-json", deployJson)], [("the model", request.Model), .. request.Inputs.Select(i => ("--input", (string?)i))]);
        }
        QnnModel model = ModelFile.Load(request.Model);
        var report = TargetReport.Check(model, request.Model, request.Target);
        if (!request.Json) TargetReport.Render(report, request.Model, Cli.Out);
        if (!report.Fits)
        {
            if (request.Json) Cli.PrintJson(new { report = TargetReport.ToJson(report, request.Model), deployed = false });
            Console.Error.WriteLine($"qnn flash: {request.Model} {report.Summary}");
            return 1;
        }

        IReadOnlyList<ToolCommand> commands;
        if (report.Target.Kind == TargetKind.Microcontroller)
        {
            CheckInputs(request, model, report);
            var configuration = NanoffDeployment.ForModel(request.Model, report.Target, request.Port, request.Inputs);
            OutputFile.WriteAllText(deployJson!, NanoffDeployment.ToJson(configuration));
            commands = [NanoffDeployment.Command(deployJson!, request.Port)];
            if (!request.Json) Console.WriteLine($"wrote {deployJson}: {request.Model} -> {report.Target.ModelPath}");
        }
        else
        {
            if (request.Inputs.Length > 0) throw new UserError("--input is for microcontrollers; on a Pi drop images into the app's watched folder");
            if (request.Host is null) throw new UserError($"--target {report.Target.Name} needs --host USER@HOST");
            if (request.App is not null && !Directory.Exists(request.App)) throw new UserError($"{request.App}: no such app folder");
            commands = PiDeployment.Commands(request.Model, request.Host, request.App, request.Service);
        }

        string? missing = commands.Select(c => c.FileName).Distinct().FirstOrDefault(tool => FlashTools.Find(tool) is null);
        bool run = !request.DryRun && missing is null;
        if (run && report.Target.Kind == TargetKind.Microcontroller && request.Port is null)
            throw new UserError("give --port, the ESP32's serial port (COM3, /dev/ttyUSB0); `nanoff --listports` lists them");

        if (!request.Json)
        {
            string why = request.DryRun ? "dry run, not run:" : missing is not null ? $"{missing} is not installed{InstallHint(missing)}; run:" : "running:";
            Console.WriteLine(why);
            foreach (var c in commands) Console.WriteLine("  " + c.Display);
        }
        if (run)
            foreach (var c in commands) FlashTools.Run(c, FlashTools.Find(c.FileName)!, outputToStderr: request.Json);

        if (request.Json)
            Cli.PrintJson(new
            {
                report = TargetReport.ToJson(report, request.Model),
                deployJson,
                commands = commands.Select(c => c.Display),
                dryRun = request.DryRun,
                missingTool = missing,
                deployed = run,
            });
        else if (run) Console.WriteLine($"deployed {request.Model} to {report.Target.Name}");
        return 0;
    }

    /// <summary>Raw inputs must have exactly the model's pixel count, and fit the file system beside the model.</summary>
    private static void CheckInputs(FlashRequest request, QnnModel model, FitReport report)
    {
        long pixels = (long)model.InputHeight * model.InputWidth * model.InputChannels;
        long total = report.FileBytes;
        foreach (string input in request.Inputs)
        {
            InputFile.CheckRegular(input);
            var info = new FileInfo(input);
            if (info.Length != pixels)
                throw new UserError($"{input}: {info.Length} bytes, but the model takes raw images of {model.InputHeight}x{model.InputWidth}x{model.InputChannels} = {pixels} bytes");
            total += info.Length;
        }
        if (total > report.Target.StorageBytes)
            throw new UserError($"the model and {request.Inputs.Length} inputs need {Bytes.Format(total)}, {report.Target.Name} has {Bytes.Format(report.Target.StorageBytes)} of storage");
    }

    private static string InstallHint(string tool) => tool == "nanoff" ? " (dotnet tool install -g nanoff)" : "";
}
