using System.Buffers.Binary;
using System.Text;

namespace Qnn.Onnx;

/// <summary>
/// The few pieces of the protobuf wire format that an ONNX file needs: varints, length-delimited fields
/// (strings, bytes, nested messages) and fixed 32-bit floats. Hand-written because there is no protoc here and
/// an ONNX writer needs only these; field numbers live in <see cref="OnnxProto"/>.
/// </summary>
public sealed class ProtoWriter
{
    private readonly MemoryStream _out = new();

    public byte[] ToArray() => _out.ToArray();

    /// <summary>A varint field (wire type 0): int64, int32 and enum values. Negative values take ten bytes, as protobuf says.</summary>
    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint((ulong)value);
        return this;
    }

    /// <summary>A 32-bit float field (wire type 5).</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _out.Write(b);
        return this;
    }

    /// <summary>A length-delimited field (wire type 2) holding raw bytes or an encoded message.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, 2);
        WriteVarint((ulong)bytes.Length);
        _out.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string text) => Bytes(field, Encoding.UTF8.GetBytes(text));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _out.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _out.WriteByte((byte)value);
    }
}
