using System.Runtime.InteropServices;

namespace Qnn.Format;

/// <summary>
/// Makes a rename durable: after a temporary is renamed over its path, the folder's entry is on disk only once the
/// folder itself is flushed (POSIX fsync on the folder). .NET has no call for it, so on Linux and macOS this opens
/// the folder read-only through libc and calls fsync; elsewhere (Windows flushes the rename with the file) it does
/// nothing.
/// </summary>
public static class FolderSync
{
    /// <summary>
    /// Flushes <paramref name="folder"/>'s entries to disk. True when done; false where the system or the file
    /// system does not offer it (the rename has happened all the same; only its durability across a power loss is
    /// then the file system's).
    /// </summary>
    public static bool Flush(string folder)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())) return false;
        try
        {
            int fd = Open(folder, 0 /* O_RDONLY: a folder opens read-only without O_DIRECTORY, whose value differs by architecture */);
            if (fd < 0) return false;
            try { return Fsync(fd) == 0; }
            finally { _ = Close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
