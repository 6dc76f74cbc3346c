namespace VecMigrate.Engine.Postgres;

/// <summary>Where and how <see cref="PgVectorWriter"/> writes.</summary>
public sealed class PgWriteOptions
{
    /// <summary>An Npgsql connection string; parts left out come from the PG* environment variables.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>The database schema; public by default.</summary>
    public string Schema { get; init; } = "public";

    public required string Table { get; init; }

    /// <summary>Records per COPY and per transaction: a failure loses at most this many uncommitted records.</summary>
    public int BatchSize { get; init; } = 2000;

    /// <summary>The id column's type for a new table; null chooses from the source's id kinds.</summary>
    public PgIdType? IdType { get; init; }

    /// <summary>
    /// The dimension given to sparse vectors (Qdrant and Pinecone sparse vectors have none); null gives
    /// pgvector's largest, 1,000,000,000, so any index fits. Indices must be below it.
    /// </summary>
    public int? SparseDimension { get; init; }

    /// <summary>Create the vector extension when the database lacks it and the server has it.</summary>
    public bool CreateExtension { get; init; } = true;

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
