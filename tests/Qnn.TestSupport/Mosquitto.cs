using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Qnn.TestSupport;

/// <summary>
/// A real Eclipse Mosquitto broker for the fleet tests: on 127.0.0.1 only, on a free port, with a generated config
/// (anonymous clients, persistence in its own temp folder so a restart keeps retained messages and sessions), stopped
/// and deleted on dispose. <see cref="Find"/> installs the Debian package when it is missing and the tests run as
/// root with apt-get (as in CI); <see cref="Unavailable"/> says why when it cannot.
/// </summary>
public sealed class Mosquitto : IDisposable
{
    private static readonly string[] Places = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"];
    private static readonly Lazy<(string? Path, string Why)> Binary = new(Locate);
    private readonly TempFolder _folder = new();
    private Process? _process;

    public int Port { get; }
    /// <summary>The running broker's process id (for CPU and memory figures), or 0 when stopped.</summary>
    public int ProcessId => _process is { HasExited: false } p ? p.Id : 0;
    public string Folder => _folder.Path;
    public string Url => $"mqtt://127.0.0.1:{Port}";
    public string LogFile => _folder.File("mosquitto.log");

    /// <summary>Null when a broker can run here, else why not (one line).</summary>
    public static string? Unavailable => Binary.Value.Path is null ? Binary.Value.Why : null;

    /// <summary>The folder of the mosquitto binary (mosquitto_passwd is beside it or on the PATH).</summary>
    public static string? BinaryPath => Binary.Value.Path;

    /// <param name="config">Replaces the generated config: given the port and this broker's folder, returns the config's text.</param>
    public Mosquitto(Func<int, string, string>? config = null)
    {
        if (Binary.Value.Path is null) throw new InvalidOperationException(Binary.Value.Why);
        Port = FreePort();
        string data = Directory.CreateDirectory(_folder.File("data")).FullName;
        File.WriteAllText(_folder.File("mosquitto.conf"), config is not null ? config(Port, _folder.Path) : string.Join('\n',
            $"listener {Port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            $"persistence_location {data}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            $"log_dest file {LogFile}",
            "log_type error",
            "log_type warning",
            $"user {Environment.UserName}",
            ""));
        Start();
    }

    /// <summary>Starts the broker and waits until it accepts connections (10 s at most).</summary>
    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo(Binary.Value.Path!, ["-c", _folder.File("mosquitto.conf")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited) throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {_process.StandardError.ReadToEnd()} {Log()}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new TimeoutException($"mosquitto did not listen on 127.0.0.1:{Port} within 10 s: {Log()}");
    }

    /// <summary>Stops the broker with SIGTERM, so it saves its retained messages and sessions, and waits for it.</summary>
    public void Stop()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) kill.WaitForExit();
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.Dispose();
        _process = null;
    }

    public string Log() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        Stop();
        _folder.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static (string? Path, string Why) Locate()
    {
        string? found = Places.FirstOrDefault(File.Exists);
        if (found is not null) return (found, "");
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get"))
            return (null, "mosquitto is not installed and there is no apt-get to install it (install Eclipse Mosquitto to run the fleet tests)");
        if (Environment.UserName != "root")
            return (null, "mosquitto is not installed and the tests do not run as root to apt-get it (sudo apt-get install mosquitto)");
        foreach (string[] args in new[] { new[] { "-qq", "install", "-y", "--no-install-recommends", "mosquitto" }, ["-qq", "update"], ["-qq", "install", "-y", "--no-install-recommends", "mosquitto"] })
        {
            var info = new ProcessStartInfo("apt-get", args) { RedirectStandardOutput = true, RedirectStandardError = true };
            info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(info)!;
            apt.StandardOutput.ReadToEnd();
            apt.StandardError.ReadToEnd();
            apt.WaitForExit();
            found = Places.FirstOrDefault(File.Exists);
            if (found is not null) return (found, "");
        }
        return (null, "mosquitto is not installed and apt-get install mosquitto failed (no package source reachable?)");
    }
}
