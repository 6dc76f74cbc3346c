using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// Which payload fields or vectors a read asks for: all, none, or the named ones
/// (Qdrant's <c>with_payload</c> / <c>with_vector</c>: <c>true</c>, <c>false</c> or a list of names).
/// </summary>
public sealed class QdrantSelection
{
    private QdrantSelection(bool enabled, IReadOnlyList<string>? names)
    {
        Enabled = enabled;
        Names = names;
    }

    public static QdrantSelection All { get; } = new(true, null);

    public static QdrantSelection None { get; } = new(false, null);

    /// <summary>Only the given payload fields or vector names (at least one).</summary>
    public static QdrantSelection Only(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0) throw new ArgumentException("Name at least one field or vector, or use QdrantSelection.None.", nameof(names));
        foreach (var n in names) ArgumentNullException.ThrowIfNull(n, nameof(names));
        return new QdrantSelection(true, names.ToArray());
    }

    /// <summary>False for <see cref="None"/>.</summary>
    public bool Enabled { get; }

    /// <summary>The selected names; null for <see cref="All"/> and <see cref="None"/>.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>True when <paramref name="name"/> is selected.</summary>
    public bool Includes(string name) => Enabled && (Names is null || Names.Contains(name, StringComparer.Ordinal));

    internal void Write(Utf8JsonWriter writer, string property)
    {
        writer.WritePropertyName(property);
        if (Names is null)
        {
            writer.WriteBooleanValue(Enabled);
            return;
        }
        writer.WriteStartArray();
        foreach (var n in Names) writer.WriteStringValue(n);
        writer.WriteEndArray();
    }

    public override string ToString() => Names is null ? (Enabled ? "all" : "none") : string.Join(",", Names);
}

/// <summary>One <c>POST /collections/{name}/points/scroll</c> request.</summary>
public sealed class QdrantScrollRequest
{
    /// <summary>The largest page this engine asks for; Qdrant itself caps it only under strict mode.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Points per page, 1..<see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = 256;

    /// <summary>The first id to return (inclusive), usually the previous page's next_page_offset; null to start at the beginning.</summary>
    public PointId? Offset { get; init; }

    /// <summary>A Qdrant filter object as JSON text, passed through unchanged; null for all points.</summary>
    public string? FilterJson { get; init; }

    /// <summary>Which payload to return; Qdrant's default is all of it.</summary>
    public QdrantSelection WithPayload { get; init; } = QdrantSelection.All;

    /// <summary>Which vectors to return: all by default (Qdrant's own default for scroll is none; this is always sent).</summary>
    public QdrantSelection WithVector { get; init; } = QdrantSelection.All;

    internal void Validate()
    {
        if (Limit is < 1 or > MaxLimit)
            throw new ArgumentOutOfRangeException(nameof(Limit), Limit, $"The page size must be between 1 and {MaxLimit}.");
        if (Offset is { } o && o.Kind is not (PointIdKind.Unsigned or PointIdKind.Uuid))
            throw new ArgumentException($"A Qdrant offset is an unsigned integer or a UUID, not a {o.Kind} id.", nameof(Offset));
        ArgumentNullException.ThrowIfNull(WithPayload);
        ArgumentNullException.ThrowIfNull(WithVector);
    }

    internal byte[] ToJson()
    {
        using var buffer = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("limit", Limit);
            if (Offset is { } o)
            {
                w.WritePropertyName("offset");
                WriteId(w, o);
            }
            if (FilterJson is not null)
            {
                w.WritePropertyName("filter");
                w.WriteRawValue(FilterJson); // validated JSON; Qdrant answers 400 for a filter it cannot read
            }
            WithPayload.Write(w, "with_payload");
            WithVector.Write(w, "with_vector");
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    internal static void WriteId(Utf8JsonWriter w, PointId id)
    {
        if (id.Kind == PointIdKind.Unsigned) w.WriteNumberValue(id.AsUnsigned);
        else w.WriteStringValue(id.AsUuid.ToString("D"));
    }
}

/// <summary>One page of a scroll: its points in Qdrant's order, and where the next page starts.</summary>
public sealed class QdrantScrollPage
{
    public QdrantScrollPage(IReadOnlyList<VectorRecord> points, PointId? nextPageOffset)
    {
        Points = points;
        NextPageOffset = nextPageOffset;
    }

    public IReadOnlyList<VectorRecord> Points { get; }

    /// <summary>
    /// The id of the first point not returned (Qdrant asks its shards for limit + 1 points and hands back the
    /// extra one's id), to be sent as the next request's <c>offset</c>; null on the last page.
    /// </summary>
    public PointId? NextPageOffset { get; }
}
