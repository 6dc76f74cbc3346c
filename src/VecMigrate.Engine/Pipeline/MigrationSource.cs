using System.Security.Cryptography;
using System.Text;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// What a <see cref="Migration"/> reads: a description for checkpoints to match, and a read that can start after
/// any record's <see cref="VectorRecord.Position"/> (null: from the beginning). Each system makes its own
/// (QdrantSource.AsMigrationSource and the like); the pipeline knows none of them by name.
/// </summary>
public sealed class MigrationSource
{
    /// <param name="description">
    /// What is read, precisely enough that a checkpoint taken from one read is refused for another: system,
    /// endpoint, collection, and whatever narrows the read (filter, namespaces). Never a secret.
    /// </param>
    /// <param name="read">Reads the records after a position (null: all of them), in the source's own order.</param>
    public MigrationSource(string description, Func<string?, IAsyncEnumerable<VectorRecord>> read)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(read);
        Description = description;
        Read = read;
    }

    public string Description { get; }

    /// <summary>Reads the records after a position; null reads from the beginning.</summary>
    public Func<string?, IAsyncEnumerable<VectorRecord>> Read { get; }

    public override string ToString() => Description;

    /// <summary>A short digest that tells two filters apart without putting them (possibly long, possibly sensitive) in the checkpoint.</summary>
    public static string Digest(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 6).ToLowerInvariant();
}
