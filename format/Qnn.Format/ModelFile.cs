namespace Qnn.Format;

/// <summary>Desktop entry points: read a model file from a path, with errors that name the file.</summary>
public static class ModelFile
{
    /// <summary>Reads and checks <paramref name="path"/> (a regular file, read by <see cref="InputFile"/>) and verifies its model id. Throws <see cref="QnnFormatException"/> whose message starts with the path.</summary>
    public static QnnModel Load(string path) => Load(path, out _);

    /// <summary>As <see cref="Load(string)"/>, also giving the file's bytes (read once: the file may change between two reads).</summary>
    public static QnnModel Load(string path, out byte[] bytes)
    {
        try
        {
            bytes = InputFile.ReadAllBytes(path, FormatConstants.MaxFileBytes, "a model (SPEC section 4)");
        }
        catch (FilePolicyException e) { throw new QnnFormatException(e.Message); }
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
