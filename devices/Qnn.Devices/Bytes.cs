using System.Globalization;

namespace Qnn.Devices;

/// <summary>Byte counts as people read them (binary units, as the limits are written).</summary>
public static class Bytes
{
    public static string Format(long bytes)
    {
        const double KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
        return bytes switch
        {
            < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
            < 1024 * 1024 => (bytes / KiB).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
            < 1024L * 1024 * 1024 => (bytes / MiB).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
            _ => (bytes / GiB).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        };
    }
}
