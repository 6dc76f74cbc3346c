using System.Text.Json;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// One partition of a source read in key order (a Milvus collection, a Qdrant collection): the records after
/// <see cref="After"/> up to and including <see cref="UpTo"/> (each a record's position; null for no bound), or none at
/// all. Stored with the checkpoint as JSON, so every worker reads the same records for the same partition.
/// </summary>
public sealed record PositionRange(string? After, string? UpTo, bool IsEmpty = false)
{
    /// <summary>The range of a partition that got no entities (more partitions than entities).</summary>
    public static readonly string EmptyText = new PositionRange(null, null, true).ToString();

    /// <summary>
    /// <paramref name="count"/> ranges of about equal size from <paramref name="positions"/>, every record's position in
    /// read order (walked once): every n-th of <paramref name="total"/> becomes a bound (<see cref="Between"/>).
    /// </summary>
    public static async Task<IReadOnlyList<string>> CutAsync(IAsyncEnumerable<string> positions, long total, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positions);
        if (count == 1) return [new PositionRange(null, null).ToString()];
        var every = Math.Max(1, (long)Math.Ceiling(total / (double)count));
        var bounds = new List<string>();
        long seen = 0;
        await foreach (var position in positions.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (++seen % every != 0) continue;
            bounds.Add(position);
            if (bounds.Count == count - 1) break;
        }
        return Between(bounds, count);
    }

    /// <summary>
    /// <paramref name="count"/> ranges cut at <paramref name="bounds"/> (positions in read order): (start, b1], (b1, b2], …,
    /// (bn, end]; when there are fewer bounds than cuts (fewer records than partitions) the rest are empty.
    /// </summary>
    public static IReadOnlyList<string> Between(IReadOnlyList<string> bounds, int count)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        var ranges = new List<string>(count);
        string? lower = null;
        foreach (var upper in bounds)
        {
            ranges.Add(new PositionRange(lower, upper).ToString());
            lower = upper;
        }
        ranges.Add(new PositionRange(lower, null).ToString());
        while (ranges.Count < count) ranges.Add(EmptyText);
        return ranges;
    }

    private sealed record Stored(string? After, string? UpTo, bool Empty);

    public override string ToString() => JsonSerializer.Serialize(new Stored(After, UpTo, IsEmpty));

    /// <summary>For descriptions: (after, upTo], or "none".</summary>
    public string Describe() => IsEmpty ? "none" : $"({After ?? "start"}, {UpTo ?? "end"}]";

    public static PositionRange Parse(string text)
    {
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(text) ?? throw new JsonException("null");
            return new PositionRange(s.After, s.UpTo, s.Empty);
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionBoundsInvalid", $"'{text}' is not the bounds of a partition.", text, ex);
        }
    }
}
