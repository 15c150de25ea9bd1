namespace Qnn.Devices.Fleet;

/// <summary>
/// The fleet store of a Pi: a folder with slot-A.pkg, slot-B.pkg, stage.pkg and one small file per record. Records
/// and slots are replaced by writing beside them, flushing to disk and renaming, so a power cut leaves the old or the
/// new file whole.
/// </summary>
public sealed class FileFleetStorage : IFleetStorage
{
    private readonly string _folder;

    public FileFleetStorage(string folder)
    {
        _folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(_folder);
    }

    public string Folder => _folder;
    private string StagePath => Path.Combine(_folder, "stage.pkg");

    /// <summary>The package file of slot "A" or "B".</summary>
    public string SlotPath(string slot) => Path.Combine(_folder, $"slot-{slot}.pkg");

    public string? ReadRecord(string name)
    {
        string path = Path.Combine(_folder, name + ".txt");
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    public void WriteRecord(string name, string text)
    {
        string path = Path.Combine(_folder, name + ".txt");
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public void ResetStage(int size)
    {
        using var stream = new FileStream(StagePath, FileMode.Create, FileAccess.Write);
        stream.SetLength(size);
    }

    public void WriteStage(int offset, byte[] data, int start, int count)
    {
        using var stream = new FileStream(StagePath, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(data, start, count);
        stream.Flush(flushToDisk: true);
    }

    public void ReadStage(int offset, byte[] buffer, int start, int count)
    {
        using var stream = new FileStream(StagePath, FileMode.Open, FileAccess.Read);
        stream.Position = offset;
        stream.ReadExactly(buffer, start, count);
    }

    public void CommitStage(string slot) => File.Move(StagePath, SlotPath(slot), overwrite: true);
}
