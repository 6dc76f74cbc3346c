using System.Text.Json;

namespace VecMigrate.Engine.Milvus;

/// <summary>
/// One partition of a Milvus collection: the keys after <see cref="After"/> up to and including <see cref="UpTo"/>
/// (each a key as a position's text; null for no bound), or none at all. Stored with the checkpoint as JSON, so every
/// worker reads the same entities for the same partition.
/// </summary>
public sealed record MilvusKeyRange(string? After, string? UpTo, bool IsEmpty = false)
{
    /// <summary>The range of a partition that got no entities (more partitions than entities).</summary>
    public static readonly string EmptyText = new MilvusKeyRange(null, null, true).ToString();

    private sealed record Stored(string? After, string? UpTo, bool Empty);

    public override string ToString() => JsonSerializer.Serialize(new Stored(After, UpTo, IsEmpty));

    /// <summary>For descriptions: (after, upTo], or "none".</summary>
    public string Describe() => IsEmpty ? "none" : $"({After ?? "start"}, {UpTo ?? "end"}]";

    public static MilvusKeyRange Parse(string text)
    {
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(text) ?? throw new JsonException("null");
            return new MilvusKeyRange(s.After, s.UpTo, s.Empty);
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, MilvusErrorIds.InvalidArgument, $"'{text}' is not a key range of a Milvus collection.", text, ex);
        }
    }
}
