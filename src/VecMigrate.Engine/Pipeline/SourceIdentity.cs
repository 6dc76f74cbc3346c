using System.Security.Cryptography;
using System.Text;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// The pieces of a read's identity (<see cref="MigrationSource.Description"/>, <see cref="Records.RecordOrigin.Read"/>):
/// what a checkpoint records as its source, whichever way the read was started (Copy-VectorData, or records piped
/// into a Write- cmdlet).
/// </summary>
internal static class SourceIdentity
{
    /// <summary>A short digest that tells two filters apart without putting them (possibly long, possibly sensitive) in the checkpoint.</summary>
    public static string Digest(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 6).ToLowerInvariant();
}
