using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

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
        QdrantSource.AsMigrationSource(new QdrantClient(Url, _apiKey, transport) { GrpcUrl = GrpcUrl },
            new QdrantReadOptions(Collection) { FilterJson = Filter, PageSize = PageSize }, loggers.CreateLogger<QdrantSource>());
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
