using System.Text;
using CsCheck;

namespace Qnn.Format.Tests;

/// <summary>The portable CRC-32 and UTF-8 decoder (written out for nanoFramework) against .NET's own.</summary>
public class PortableCodecTests
{
    [Fact]
    public void Crc32_check_value_of_123456789_is_CBF43926()
    {
        byte[] data = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xCBF43926u, Crc32.Compute(data, 0, data.Length));
        Assert.Equal(0u, Crc32.Compute([], 0, 0));
    }

    [Fact]
    public void Crc32_equals_System_IO_Hashing_on_random_data_in_random_chunks()
    {
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.Int[1, 700]).Sample((data, chunk) =>
        {
            uint expected = System.IO.Hashing.Crc32.HashToUInt32(data);
            Assert.Equal(expected, Crc32.Compute(data, 0, data.Length));
            var crc = new Crc32();
            for (int i = 0; i < data.Length; i += chunk) crc.Append(data, i, Math.Min(chunk, data.Length - i));
            Assert.Equal(expected, crc.Value);
        }, iter: 500);
    }

    /// <summary>Any Unicode scalar value: the four UTF-8 lengths, surrogate pairs, never a lone surrogate.</summary>
    private static readonly Gen<string> ValidText =
        Gen.Frequency((4, Gen.Int[0, 0x7F]), (2, Gen.Int[0x80, 0x7FF]), (2, Gen.Int[0x800, 0xD7FF]), (1, Gen.Int[0xE000, 0xFFFF]), (2, Gen.Int[0x10000, 0x10FFFF]))
            .Select(char.ConvertFromUtf32).Array[0, 40].Select(parts => string.Concat(parts));

    [Fact]
    public void Utf8_decoder_equals_Encoding_UTF8_on_valid_text()
    {
        ValidText.Sample(text =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            byte[] framed = [0xFF, .. bytes, 0xFF];   // an offset and a count inside a larger buffer
            Assert.Equal(text, Utf8.Decode(framed, 1, bytes.Length));
        }, iter: 1000);
    }

    [Fact]
    public void Utf8_decoder_never_throws_on_arbitrary_bytes()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            string s = Utf8.Decode(bytes, 0, bytes.Length);
            Assert.True(s.Length <= bytes.Length);
        }, iter: 2000);
    }
}
