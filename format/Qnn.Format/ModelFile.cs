namespace Qnn.Format;

/// <summary>Desktop entry points: read a model file from a path, with errors that name the file.</summary>
public static class ModelFile
{
    /// <summary>Reads and checks <paramref name="path"/> and verifies its model id. Throws <see cref="QnnFormatException"/> whose message starts with the path.</summary>
    public static QnnModel Load(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new QnnFormatException($"{path}: no such file");
            if (info.Length > FormatConstants.MaxFileBytes) throw new QnnFormatException($"{path}: {info.Length} bytes is over the 256 MiB limit of a model");
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e) { throw new QnnFormatException($"{path}: {e.Message}"); }
        catch (UnauthorizedAccessException e) { throw new QnnFormatException($"{path}: {e.Message}"); }
        return Parse(bytes, path);
    }

    /// <summary>Reads and checks model bytes; <paramref name="name"/> prefixes error messages.</summary>
    public static QnnModel Parse(byte[] bytes, string name)
    {
        try
        {
            QnnModel model = ModelReader.Read(new ArraySource(bytes));
            ulong id = ModelWriter.ComputeModelId(bytes);
            if (id != model.ModelId)
                throw new QnnFormatException($"model id mismatch (stored {model.ModelId:x16}, computed {id:x16})");
            return model;
        }
        catch (QnnFormatException e) when (!e.Message.StartsWith(name + ":", StringComparison.Ordinal))
        {
            throw new QnnFormatException($"{name}: {e.Message}");
        }
    }
}
