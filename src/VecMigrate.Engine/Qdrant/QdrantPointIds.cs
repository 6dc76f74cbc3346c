using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// How record ids become Qdrant point ids. Qdrant takes only unsigned 64-bit integers and UUIDs: those go as they
/// are. Any other id (a Pinecone id, a text key of a Postgres table) becomes a name-based UUID, version 5
/// (RFC 9562, SHA-1), so that the same record always lands on the same point and a rerun overwrites instead of
/// duplicating:
/// <code>
/// point id = UUIDv5(namespace: be696d40-dd9a-4888-b7df-087c24c349dd,
///                   name: UTF-8(id)                                     for a record without namespace
///                         UTF-8(namespace) + 0xFF + UTF-8(id)           for a record in a namespace (Pinecone; "" too))
/// </code>
/// The byte 0xFF never occurs in UTF-8, so it splits namespace from id without ambiguity: the same id in two
/// namespaces gives two points. A string id is always hashed, also when its text looks like a number or a UUID
/// ("42" and "042" stay two records). The mapping is not reversible, so the writer keeps the original id (and the
/// namespace) in the payload.
/// </summary>
public static class QdrantPointIds
{
    /// <summary>VecMigrate's fixed UUIDv5 namespace (a random UUID drawn once; never change it: ids would move).</summary>
    public static Guid VecMigrateNamespace { get; } = new("be696d40-dd9a-4888-b7df-087c24c349dd");

    private const byte NamespaceSeparator = 0xFF;

    /// <summary>Throws on text that is not valid UTF-16 (a lone surrogate), instead of replacing it with U+FFFD.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The Qdrant point id of a record id in an optional namespace (see the type's remarks).</summary>
    public static PointId ToQdrant(PointId id, string? @namespace)
    {
        if (!id.IsValid) throw new ArgumentException("A record needs an id.", nameof(id));
        return id.Kind == PointIdKind.String ? PointId.FromUuid(ForString(id.AsString, @namespace)) : id;
    }

    /// <summary>
    /// The UUIDv5 VecMigrate gives a string id (in a namespace, when not null). Text that is not valid UTF-16 (a lone
    /// surrogate) has no UTF-8 form and throws <see cref="ArgumentException"/> rather than hashing a replacement.
    /// </summary>
    public static Guid ForString(string id, string? @namespace)
    {
        ArgumentNullException.ThrowIfNull(id);
        var idBytes = StrictUtf8.GetByteCount(id);
        var nsBytes = @namespace is null ? 0 : StrictUtf8.GetByteCount(@namespace) + 1;
        var length = nsBytes + idBytes;
        var rented = length <= 512 ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> name = rented is null ? stackalloc byte[512] : rented;
        try
        {
            var at = 0;
            if (@namespace is not null)
            {
                at = StrictUtf8.GetBytes(@namespace, name);
                name[at++] = NamespaceSeparator;
            }
            StrictUtf8.GetBytes(id, name[at..]);
            return Version5(VecMigrateNamespace, name[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>RFC 9562 §5.5: SHA-1 over the namespace's 16 bytes (network order) and the name; version 5, variant 10.</summary>
    public static Guid Version5(Guid @namespace, ReadOnlySpan<byte> name)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        Span<byte> ns = stackalloc byte[16];
        @namespace.TryWriteBytes(ns, bigEndian: true, out _);
        sha1.AppendData(ns);
        sha1.AppendData(name);
        Span<byte> hash = stackalloc byte[20];
        sha1.GetHashAndReset(hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
