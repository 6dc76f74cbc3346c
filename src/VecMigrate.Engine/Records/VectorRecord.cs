namespace VecMigrate.Engine.Records;

/// <summary>
/// Where a record came from: the system, its endpoint (never with credentials), the collection,
/// index or table. Shared by every record of one read.
/// </summary>
public sealed record RecordOrigin(SourceKind Source, string Endpoint, string Container)
{
    /// <summary>
    /// The read these records came from, as a checkpoint records its source (the same text as the
    /// <c>MigrationSource.Description</c> of that read): piped records and Copy-VectorData share one checkpoint
    /// identity. Null for records not read by a source.
    /// </summary>
    public string? Read { get; init; }

    public override string ToString() => $"{Source}:{Endpoint}/{Container}";
}

/// <summary>
/// One record moving between systems: its id, its vectors by name ("" for the unnamed vector), its
/// payload, the namespace it lives in (Pinecone), and where it came from, including its position in the
/// source's own order so that a read can resume after it.
/// </summary>
public sealed class VectorRecord
{
    /// <summary>The name under which a source's single unnamed vector is kept.</summary>
    public const string DefaultVectorName = "";

    private static readonly IReadOnlyDictionary<string, VectorValue> NoVectors = new Dictionary<string, VectorValue>();

    public VectorRecord(PointId id, IReadOnlyDictionary<string, VectorValue>? vectors, JsonPayload? payload)
    {
        if (!id.IsValid) throw new ArgumentException("A record needs an id.", nameof(id));
        Id = id;
        Vectors = vectors ?? NoVectors;
        Payload = payload;
    }

    public PointId Id { get; }

    public IReadOnlyDictionary<string, VectorValue> Vectors { get; }

    /// <summary>The payload or metadata object; null when the record has none.</summary>
    public JsonPayload? Payload { get; }

    /// <summary>The Pinecone namespace ("" for the default one); null for sources without namespaces.</summary>
    public string? Namespace { get; init; }

    /// <summary>What the source knew of all its records; null for records built from plain objects.</summary>
    public SourceSchema? Schema { get; init; }

    public RecordOrigin? Origin { get; init; }

    /// <summary>Typed column values made by ConvertTo-PgVectorRecord; null for records as a source gave them.</summary>
    public RecordColumns? Columns { get; init; }

    /// <summary>
    /// An opaque token for this record's place in the source's own order: reading again "after" it
    /// yields exactly the records that followed it. Null where the source cannot resume.
    /// </summary>
    public string? Position { get; init; }

    /// <summary>This record, everything kept, at another place in the order (a copy: records are shared, never changed).</summary>
    public VectorRecord WithPosition(string? position) => new(Id, Vectors, Payload)
    {
        Namespace = Namespace, Schema = Schema, Origin = Origin, Columns = Columns, Position = position,
    };

    /// <summary>The unnamed vector when it is dense, else null.</summary>
    public float[]? Embedding =>
        Vectors.TryGetValue(DefaultVectorName, out var v) && v is DenseVector d ? d.Values : null;

    public override string ToString() => Namespace is null ? Id.ToString() : $"{Namespace}/{Id}";
}
