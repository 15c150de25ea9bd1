using System.Security.Cryptography;

namespace Qnn.Devices.Fleet;

/// <summary>The fleet's public key (PEM, from <c>qnn fleet keygen</c>) checking manifests with .NET's ECDSA P-256.</summary>
public sealed class EcdsaSignatureVerifier : ISignatureVerifier, IDisposable
{
    private readonly ECDsa _key;

    public EcdsaSignatureVerifier(ECDsa publicKey) => _key = publicKey;

    /// <summary>Loads a public key file; throws <see cref="InvalidDataException"/> naming the file when it is not one.</summary>
    public static EcdsaSignatureVerifier Load(string path) => new(FleetKeys.LoadPublic(path));

    public bool Verify(byte[] signedBytes, byte[] signature) =>
        signature.Length == 64 && _key.VerifyData(signedBytes, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => _key.Dispose();
}
