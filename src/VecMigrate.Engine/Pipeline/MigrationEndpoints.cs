using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// What a migration reads, described without connecting (New-QdrantSource and the like): opened only when a copy
/// runs. Secrets are held as <see cref="ApiSecret"/> or connection settings, never as a property, and no printable
/// form shows them.
/// </summary>
public abstract class MigrationSourceSpec
{
    /// <summary>The system: Qdrant, Pinecone or Postgres.</summary>
    public abstract string System { get; }

    /// <summary>What is read, for people: endpoint and collection, index or table. Never a secret.</summary>
    public abstract string Description { get; }

    /// <summary>Opens the source on <paramref name="transport"/> (owned by the caller, shared by both sides).</summary>
    public abstract MigrationSource Open(RestTransport transport, ILoggerFactory loggers);

    public override string ToString() => Description;
}

/// <summary>
/// What a migration writes into, described without connecting. Any <see cref="IRecordSink"/> can stand behind one;
/// a Postgres table keeps its checkpoint in its own database, other targets in a <see cref="FileCheckpointStore"/>.
/// </summary>
public abstract class MigrationTargetSpec
{
    public abstract string System { get; }

    public abstract string Description { get; }

    /// <summary>Writing empties what is there first (asks for confirmation with high impact).</summary>
    public virtual bool Destructive => false;

    /// <summary>Opens the sink; the caller disposes it.</summary>
    public abstract IRecordSink Open(RestTransport transport, ILoggerFactory loggers);

    /// <summary>After a complete copy: work that waits for all the data (e.g. building indexes).</summary>
    public virtual Task FinishAsync(IRecordSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

    public override string ToString() => Description;
}

/// <summary>A Qdrant collection to read, in id order.</summary>
public sealed class QdrantSourceSpec : MigrationSourceSpec
{
    private readonly ApiSecret? _apiKey;

    /// <param name="url">Qdrant's REST url.</param>
    /// <param name="apiKey">The key, or null for none.</param>
    /// <param name="collection">The collection.</param>
    public QdrantSourceSpec(Uri url, ApiSecret? apiKey, string collection)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Url = url;
        _apiKey = apiKey;
        Collection = collection;
    }

    public override string System => "Qdrant";

    public Uri Url { get; }

    public string Collection { get; }

    /// <summary>Qdrant's JSON filter, or null for every point.</summary>
    public string? Filter { get; init; }

    public int PageSize { get; init; } = QdrantReadOptions.DefaultPageSize;

    /// <summary>Qdrant's gRPC url, to read pages over gRPC (everything else stays REST); null for REST only.</summary>
    public Uri? GrpcUrl { get; init; }

    /// <summary>Whether a key is set (never the key).</summary>
    public bool HasApiKey => _apiKey is not null;

    public override string Description => $"Qdrant {Url} collection '{Collection}'{(Filter is null ? "" : " (filtered)")}{(GrpcUrl is null ? "" : " over gRPC")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        MigrationSource.Qdrant(new QdrantClient(Url, _apiKey, transport) { GrpcUrl = GrpcUrl },
            new QdrantReadOptions(Collection) { FilterJson = Filter, PageSize = PageSize }, loggers.CreateLogger<QdrantSource>());
}

/// <summary>A Pinecone index to read, namespace by namespace.</summary>
public sealed class PineconeSourceSpec : MigrationSourceSpec
{
    private readonly ApiSecret _apiKey;

    /// <param name="apiKey">The key (Pinecone always needs one).</param>
    /// <param name="controlPlane">Pinecone's control plane (api.pinecone.io, or Pinecone Local).</param>
    /// <param name="indexName">The index's name; with no <paramref name="indexHost"/>, its host is asked of the control plane.</param>
    /// <param name="indexHost">The index's host, or null.</param>
    public PineconeSourceSpec(ApiSecret apiKey, Uri controlPlane, string indexName, string? indexHost)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentNullException.ThrowIfNull(controlPlane);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexName);
        _apiKey = apiKey;
        Url = controlPlane;
        IndexName = indexName;
        IndexHost = indexHost;
    }

    public override string System => "Pinecone";

    public Uri Url { get; }

    public string IndexName { get; }

    public string? IndexHost { get; }

    /// <summary>The namespaces to read; null for all of them.</summary>
    public string[]? Namespace { get; init; }

    /// <summary>Only ids that start with this.</summary>
    public string? Prefix { get; init; }

    public override string Description =>
        $"Pinecone index '{IndexName}'{(Namespace is null ? "" : $" namespaces {string.Join(",", Namespace.Select(n => $"'{n}'"))}")}{(string.IsNullOrEmpty(Prefix) ? "" : $" prefix '{Prefix}'")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers)
    {
        var client = new PineconeClient(_apiKey, transport, new PineconeClientOptions { ControlPlaneUrl = Url, DataPlaneScheme = Url.Scheme });
        var source = new PineconeSource(client, new PineconeSourceOptions { IndexName = IndexName, IndexHost = IndexHost });
        return MigrationSource.Pinecone(source, new PineconeReadOptions { Namespaces = Namespace, IdPrefix = Prefix });
    }
}

/// <summary>A Postgres table to read, in key order.</summary>
public sealed class PgVectorSourceSpec : MigrationSourceSpec
{
    private readonly PgConnectionSettings _connection;

    public PgVectorSourceSpec(PgConnectionSettings connection, string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        _connection = connection;
        Schema = schema;
        Table = table;
    }

    public override string System => "Postgres";

    /// <summary>host:port/database as user (no password).</summary>
    public string Server => _connection.Description;

    public string Schema { get; }

    public string Table { get; }

    /// <summary>The key column; the primary key when null.</summary>
    public string? KeyColumn { get; init; }

    /// <summary>An SQL condition on the rows.</summary>
    public string? Where { get; init; }

    public override string Description => $"Postgres {Server} table {Schema}.{Table}{(Where is null ? "" : " (where ...)")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        MigrationSource.PgVector(new PgReadOptions
        {
            ConnectionString = _connection.RevealConnectionString(), Schema = Schema, Table = Table, KeyColumn = KeyColumn, Where = Where,
        }, loggers.CreateLogger<PgVectorSource>());
}

/// <summary>A Postgres table to write into with binary COPY; it keeps the checkpoint in the same database.</summary>
public sealed class PgVectorTargetSpec : MigrationTargetSpec
{
    private readonly PgConnectionSettings _connection;

    public PgVectorTargetSpec(PgConnectionSettings connection, string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        _connection = connection;
        Schema = schema;
        Table = table;
    }

    public override string System => "Postgres";

    public string Server => _connection.Description;

    public string Schema { get; }

    public string Table { get; }

    public PgWriteMode Mode { get; init; } = PgWriteMode.Append;

    public PgVectorType VectorType { get; init; } = PgVectorType.Vector;

    public PgIdType? IdType { get; init; }

    public int BatchSize { get; init; } = PgWriteOptions.DefaultBatchSize;

    public PgIndexKind Index { get; init; } = PgIndexKind.None;

    public override bool Destructive => Mode == PgWriteMode.Replace;

    public override string Description => $"Postgres {Server} table {Schema}.{Table} ({Mode})";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new PgVectorWriter(new PgWriteOptions
        {
            ConnectionString = _connection.RevealConnectionString(), Schema = Schema, Table = Table, Mode = Mode, VectorType = VectorType,
            IdType = IdType, BatchSize = BatchSize, Index = Index,
        }, loggers.CreateLogger<PgVectorWriter>());

    public override Task FinishAsync(IRecordSink sink, CancellationToken cancellationToken) =>
        Index == PgIndexKind.None ? Task.CompletedTask : ((PgVectorWriter)sink).CreateIndexesAsync(cancellationToken);
}

/// <summary>
/// A Qdrant collection to write into (created from the first record's schema unless told not to); Qdrant upserts by
/// id, so a resumed copy may write a batch again without duplicating it. Its checkpoint is kept in a file.
/// </summary>
public sealed class QdrantTargetSpec : MigrationTargetSpec
{
    private readonly ApiSecret? _apiKey;

    /// <param name="url">Qdrant's REST url.</param>
    /// <param name="apiKey">The key, or null for none.</param>
    /// <param name="collection">The collection.</param>
    public QdrantTargetSpec(Uri url, ApiSecret? apiKey, string collection)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Url = url;
        _apiKey = apiKey;
        Collection = collection;
    }

    public override string System => "Qdrant";

    public Uri Url { get; }

    public string Collection { get; }

    /// <summary>The distance of a collection created by the copy; null takes the source's (or Cosine).</summary>
    public DistanceMetric? Distance { get; init; }

    public int BatchSize { get; init; } = QdrantSinkOptions.DefaultBatchSize;

    /// <summary>Whether a missing collection is created (false: it must exist).</summary>
    public bool CreateCollection { get; init; } = true;

    public string OriginalIdField { get; init; } = QdrantSinkOptions.DefaultOriginalIdField;

    public string NamespaceField { get; init; } = QdrantSinkOptions.DefaultNamespaceField;

    /// <summary>Whether a key is set (never the key).</summary>
    public bool HasApiKey => _apiKey is not null;

    public override string Description => $"Qdrant {Url} collection '{Collection}'";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new QdrantSink(new QdrantClient(Url, _apiKey, transport), new QdrantSinkOptions(Collection)
        {
            Distance = Distance, BatchSize = BatchSize, CreateCollection = CreateCollection,
            OriginalIdField = OriginalIdField, NamespaceField = NamespaceField,
        }, loggers.CreateLogger<QdrantSink>());
}

/// <summary>
/// An existing Pinecone index to write into; Pinecone upserts by id, so a resumed copy may write a batch again
/// without duplicating it. Its checkpoint is kept in a file.
/// </summary>
public sealed class PineconeTargetSpec : MigrationTargetSpec
{
    private readonly ApiSecret _apiKey;

    /// <param name="apiKey">The key (Pinecone always needs one).</param>
    /// <param name="controlPlane">Pinecone's control plane (api.pinecone.io, or Pinecone Local).</param>
    /// <param name="indexName">The index's name; with no <paramref name="indexHost"/>, its host is asked of the control plane.</param>
    /// <param name="indexHost">The index's host, or null.</param>
    public PineconeTargetSpec(ApiSecret apiKey, Uri controlPlane, string indexName, string? indexHost)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentNullException.ThrowIfNull(controlPlane);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexName);
        _apiKey = apiKey;
        Url = controlPlane;
        IndexName = indexName;
        IndexHost = indexHost;
    }

    public override string System => "Pinecone";

    public Uri Url { get; }

    public string IndexName { get; }

    public string? IndexHost { get; }

    /// <summary>The namespace every record goes into ("" for the default one); null keeps each record's own.</summary>
    public string? Namespace { get; init; }

    /// <summary>The record vector written as the dense values; null chooses the unnamed or only dense one.</summary>
    public string? VectorName { get; init; }

    /// <summary>The record vector written as the sparse values; null chooses the only sparse one.</summary>
    public string? SparseVectorName { get; init; }

    public int BatchSize { get; init; } = PineconeClient.MaxUpsertVectors;

    public override string Description =>
        $"Pinecone index '{IndexName}'{(Namespace is null ? "" : $" namespace '{Namespace}'")}";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers)
    {
        var client = new PineconeClient(_apiKey, transport, new PineconeClientOptions { ControlPlaneUrl = Url, DataPlaneScheme = Url.Scheme });
        return new PineconeSink(client, new PineconeSinkOptions
        {
            IndexName = IndexName, IndexHost = IndexHost, Namespace = Namespace, VectorName = VectorName,
            SparseVectorName = SparseVectorName, BatchSize = BatchSize,
        });
    }
}
