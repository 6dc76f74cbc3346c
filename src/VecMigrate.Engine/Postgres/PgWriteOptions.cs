namespace VecMigrate.Engine.Postgres;

/// <summary>What a write does with rows already in the table.</summary>
public enum PgWriteMode
{
    /// <summary>Add rows; a key that is already there fails its batch (nothing of that batch is written).</summary>
    Append,
    /// <summary>Insert, or update the row with the same key: rerunning a migration leaves one row per record.</summary>
    Upsert,
    /// <summary>Empty the table (in the first batch's transaction), then add rows. Never drops it.</summary>
    Replace,
}

/// <summary>The column type for dense vectors in a new table.</summary>
public enum PgVectorType
{
    /// <summary>pgvector's <c>vector</c> (float4; indexable up to 2,000 dimensions).</summary>
    Vector,
    /// <summary>pgvector's <c>halfvec</c> (binary16: half the space, values rounded; indexable up to 4,000 dimensions).</summary>
    HalfVec,
    /// <summary>Plain <c>real[]</c>, for Postgres without pgvector (bit for bit, no vector index).</summary>
    RealArray,
}

/// <summary>A vector index to build after the load.</summary>
public enum PgIndexKind
{
    None,
    Hnsw,
    IvfFlat,
}

/// <summary>Where and how <see cref="PgVectorWriter"/> writes.</summary>
public sealed class PgWriteOptions
{
    /// <summary>An Npgsql connection string; parts left out come from the PG* environment variables.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>The database schema; public by default.</summary>
    public string Schema { get; init; } = "public";

    public required string Table { get; init; }

    /// <summary>
    /// The default batch: 10,000 records. Each batch ends its COPY and commits, and while it does Postgres waits for
    /// rows; at 1,024 dimensions batches of 2,000 let Postgres take rows at about 0.9 of its own COPY rate, batches of
    /// 10,000 at about 0.97 (the benchmark's writer stage). The writer streams, so a bigger batch costs no memory;
    /// it costs only the rows written again after a failure.
    /// </summary>
    public const int DefaultBatchSize = 10_000;

    /// <summary>Records per COPY and per transaction: a failure loses at most this many uncommitted records.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The id column's type for a new table; null chooses from the source's id kinds.</summary>
    public PgIdType? IdType { get; init; }

    /// <summary>
    /// The dimension given to sparse vectors (Qdrant and Pinecone sparse vectors have none); null gives
    /// pgvector's largest, 1,000,000,000, so any index fits. Indices must be below it.
    /// </summary>
    public int? SparseDimension { get; init; }

    public PgWriteMode Mode { get; init; } = PgWriteMode.Append;

    /// <summary>Dense vector column type for a new table (an existing table keeps its own types).</summary>
    public PgVectorType VectorType { get; init; } = PgVectorType.Vector;

    /// <summary>A vector index per vector column, built after the load by <see cref="PgVectorWriter.CreateIndexesAsync"/>.</summary>
    public PgIndexKind Index { get; init; } = PgIndexKind.None;

    /// <summary>The metric the index serves; null takes each vector's metric from the source.</summary>
    public Records.DistanceMetric? IndexMetric { get; init; }

    /// <summary>Create the vector extension when the database lacks it and the server has it.</summary>
    public bool CreateExtension { get; init; } = true;

    /// <summary>These options with another connection string (every other option copied).</summary>
    public PgWriteOptions WithConnectionString(string connectionString) => new()
    {
        ConnectionString = connectionString, Schema = Schema, Table = Table, BatchSize = BatchSize, IdType = IdType,
        SparseDimension = SparseDimension, Mode = Mode, VectorType = VectorType, Index = Index, IndexMetric = IndexMetric,
        CreateExtension = CreateExtension,
    };

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Table)) throw Invalid("A table name is required.");
        if (string.IsNullOrWhiteSpace(Schema)) throw Invalid("A schema name is required.");
        if (BatchSize is < 1 or > 1_000_000) throw Invalid($"The batch size must be between 1 and 1,000,000 (got {BatchSize}).");
        if (SparseDimension is < 1 or > PgVectorCodec.SparseVecMaxDim)
        {
            throw Invalid($"The sparse dimension must be between 1 and {PgVectorCodec.SparseVecMaxDim:N0} (got {SparseDimension}).");
        }
    }

    private static VecMigrateException Invalid(string message) =>
        new(FailureKind.InvalidArgument, "PgWriteOptionsInvalid", message);
}

/// <summary>What a write did.</summary>
public sealed record PgWriteSummary(string Table, long RecordsWritten, long RecordsRejected, int BatchesCommitted, TimeSpan Elapsed)
{
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? RecordsWritten / Elapsed.TotalSeconds : 0;
}
