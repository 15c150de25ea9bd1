using System.Security.Cryptography;

namespace Qnn.Devices.Fleet;

/// <summary>
/// The fleet's signing key: ECDSA P-256 from .NET's cryptography. The private key (PKCS#8 PEM) stays on the host
/// that pushes; the public key (SubjectPublicKeyInfo PEM) goes on every device.
/// </summary>
public static class FleetKeys
{
    public static (string PrivatePem, string PublicPem) Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>A private key file; <see cref="InvalidDataException"/> naming the file when it is not a P-256 private key.</summary>
    public static ECDsa LoadPrivate(string path) => Load(path, "an ECDSA P-256 private key (qnn fleet keygen)", needPrivate: true);

    public static ECDsa LoadPublic(string path) => Load(path, "an ECDSA P-256 public key (qnn fleet keygen)", needPrivate: false);

    private static ECDsa Load(string path, string what, bool needPrivate)
    {
        string text;
        try
        {
            if (!File.Exists(path)) throw new FileNotFoundException();
            if (new FileInfo(path).Length > 64 << 10) throw new InvalidDataException($"{path}: over 64 KiB, not {what}");
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException) { throw new InvalidDataException($"{path}: no such file ({what})"); }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(text);
            ECParameters p = key.ExportParameters(false);
            if (p.Curve.Oid.FriendlyName is not ("nistP256" or "ECDSA_P256") && p.Curve.Oid.Value != "1.2.840.10045.3.1.7")
                throw new InvalidDataException($"{path}: not a P-256 key, not {what}");
            if (needPrivate && !text.Contains("PRIVATE KEY", StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: a public key, not {what}");
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidDataException($"{path}: not {what}");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The manifest's signature: ECDSA P-256 over SHA-256 of the body, r‖s (64 bytes).</summary>
    public static byte[] Sign(ECDsa key, byte[] body) =>
        key.SignData(body, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
