namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// Reports files that appear in a folder (created, or moved in: write elsewhere then <c>mv</c> for an atomic drop).
/// The classifier waits until a created file stops growing before it reads it.
/// </summary>
public sealed class FolderWatch : IDisposable
{
    private readonly FileSystemWatcher _watcher;

    public FolderWatch(string folder, Action<string> arrived)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder to watch");
        _watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName,
        };
        _watcher.Created += (_, e) => arrived(e.FullPath);
        _watcher.Renamed += (_, e) => arrived(e.FullPath);
        _watcher.EnableRaisingEvents = true;
    }

    public void Dispose() => _watcher.Dispose();
}
