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
    /// <param name="options">What to read: the same options Get-QdrantPoint reads with (its start position is the runner's).</param>
    public QdrantSourceSpec(Uri url, ApiSecret? apiKey, QdrantReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Url = url;
        _apiKey = apiKey;
        Options = options.WithStartAfter(null);
    }

    public override string System => "Qdrant";

    public Uri Url { get; }

    public string Collection => Options.Collection;

    /// <summary>What is read (never a secret).</summary>
    public QdrantReadOptions Options { get; }

    /// <summary>Qdrant's gRPC url, to read pages over gRPC (everything else stays REST); null for REST only.</summary>
    public Uri? GrpcUrl { get; init; }

    /// <summary>Whether a key is set (never the key).</summary>
    public bool HasApiKey => _apiKey is not null;

    public override string Description => Options.Describe(Url.ToString()) + (GrpcUrl is null ? "" : " over gRPC");

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        QdrantSource.AsMigrationSource(new QdrantClient(Url, _apiKey, transport) { GrpcUrl = GrpcUrl }, Options, loggers.CreateLogger<QdrantSource>());
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
    /// <param name="options">How to write: the same options Write-QdrantPoint writes with.</param>
    public QdrantTargetSpec(Uri url, ApiSecret? apiKey, QdrantSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Url = url;
        _apiKey = apiKey;
        Options = options;
    }

    public override string System => "Qdrant";

    public Uri Url { get; }

    public string Collection => Options.Collection;

    /// <summary>How the copy writes (never a secret).</summary>
    public QdrantSinkOptions Options { get; }

    /// <summary>Qdrant's gRPC url, to upsert over gRPC (the collection's schema stays REST); null for REST only.</summary>
    public Uri? GrpcUrl { get; init; }

    /// <summary>Whether a key is set (never the key).</summary>
    public bool HasApiKey => _apiKey is not null;

    public override string Description => $"Qdrant {Url} collection '{Collection}'{(GrpcUrl is null ? "" : " over gRPC")}";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new QdrantSink(new QdrantClient(Url, _apiKey, transport) { GrpcUrl = GrpcUrl }, Options, loggers.CreateLogger<QdrantSink>());

    /// <summary>The collection, read back with the same url and key.</summary>
    public override MigrationSourceSpec AsSource() => new QdrantSourceSpec(Url, _apiKey, new QdrantReadOptions(Collection)) { GrpcUrl = GrpcUrl };

    /// <summary>Partitions kept in the checkpoint folder: the target upserts by id, so a batch written twice changes nothing.</summary>
    public override IPartitionLedger? OpenPartitionLedger(string? stateDirectory = null) => new FilePartitionLedger(stateDirectory);
}
