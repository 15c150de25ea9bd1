using System.Runtime.InteropServices;

namespace Qnn.Format;

/// <summary>What a path names, as the file system says, without opening it (opening a FIFO blocks).</summary>
public enum FileKind { Missing, Regular, Directory, SymbolicLink, CharacterDevice, BlockDevice, Fifo, Socket }

/// <summary>
/// The kind and identity of a path. .NET's FileInfo cannot tell a device or a FIFO from a regular file, so on Linux
/// this asks statx(2), whose buffer layout is the same on every architecture (x64 and the Pi's arm64); elsewhere it
/// falls back to what FileInfo knows (folders and links).
/// </summary>
public static class FileKinds
{
    /// <summary>The kind of <paramref name="path"/>; a symbolic link is reported as such unless <paramref name="followLinks"/>.</summary>
    public static FileKind Of(string path, bool followLinks) => Stat(path, followLinks).Kind;

    /// <summary>A phrase for messages: "is a folder", "is a FIFO (named pipe)".</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "does not exist",
        FileKind.Regular => "is a regular file",
        FileKind.Directory => "is a folder",
        FileKind.SymbolicLink => "is a symbolic link",
        FileKind.CharacterDevice => "is a character device",
        FileKind.BlockDevice => "is a block device",
        FileKind.Fifo => "is a FIFO (named pipe)",
        _ => "is a socket",
    };

    /// <summary>
    /// Device and inode of an existing path (links followed), so that two names of one file (a link, a hard link,
    /// `./a` and `a`) compare equal; null where statx is not available or the path does not exist.
    /// </summary>
    public static (ulong Device, ulong Inode)? Identity(string path)
    {
        var s = Stat(path, followLinks: true);
        return s.Kind == FileKind.Missing || s.Inode == 0 ? null : (s.Device, s.Inode);
    }

    private static (FileKind Kind, ulong Device, ulong Inode) Stat(string path, bool followLinks)
    {
        if (OperatingSystem.IsLinux() && _statx)
        {
            var buffer = new byte[256];
            try
            {
                const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
                const uint StatxType = 0x1, StatxIno = 0x100;
                if (statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxIno, buffer) != 0)
                    return (FileKind.Missing, 0, 0);
                // struct statx: stx_mode u16 at 28, stx_ino u64 at 32, stx_dev_major/minor u32 at 136/140.
                int mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
                ulong device = ((ulong)BitConverter.ToUInt32(buffer, 136) << 32) | BitConverter.ToUInt32(buffer, 140);
                return (mode switch
                {
                    0x8000 => FileKind.Regular,
                    0x4000 => FileKind.Directory,
                    0xA000 => FileKind.SymbolicLink,
                    0x2000 => FileKind.CharacterDevice,
                    0x6000 => FileKind.BlockDevice,
                    0x1000 => FileKind.Fifo,
                    _ => FileKind.Socket,
                }, device, BitConverter.ToUInt64(buffer, 32));
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                _statx = false;   // an old C library: the portable answer below
            }
        }
        var info = new FileInfo(path);
        if (!followLinks && info.LinkTarget is not null) return (FileKind.SymbolicLink, 0, 0);
        if (Directory.Exists(path)) return (FileKind.Directory, 0, 0);
        return (info.Exists ? FileKind.Regular : FileKind.Missing, 0, 0);
    }

    private static bool _statx = true;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, string pathname, int flags, uint mask, byte[] statxbuf);
}
