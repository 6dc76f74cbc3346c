using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>A Pinecone index to read, namespace by namespace.</summary>
public sealed class PineconeSourceSpec : MigrationSourceSpec
{
    private readonly ApiSecret _apiKey;

    /// <param name="apiKey">The key (Pinecone always needs one).</param>
    /// <param name="controlPlane">Pinecone's control plane (api.pinecone.io, or Pinecone Local).</param>
    /// <param name="indexName">The index's name; with no <paramref name="indexHost"/>, its host is asked of the control plane.</param>
    /// <param name="indexHost">The index's host, or null.</param>
    /// <param name="options">What to read: the same options Get-PineconeVector reads with (its start position is the runner's).</param>
    public PineconeSourceSpec(ApiSecret apiKey, Uri controlPlane, string indexName, string? indexHost, PineconeReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentNullException.ThrowIfNull(controlPlane);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexName);
        _apiKey = apiKey;
        Url = controlPlane;
        IndexName = indexName;
        IndexHost = indexHost;
        Options = (options ?? new PineconeReadOptions()).WithStartAfter(null);
    }

    public override string System => "Pinecone";

    public Uri Url { get; }

    public string IndexName { get; }

    public string? IndexHost { get; }

    /// <summary>What is read (never a secret).</summary>
    public PineconeReadOptions Options { get; }

    public override string Description => Options.Describe(IndexName);

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers)
    {
        var client = new PineconeClient(_apiKey, transport, new PineconeClientOptions { ControlPlaneUrl = Url, DataPlaneScheme = Url.Scheme });
        var source = new PineconeSource(client, new PineconeSourceOptions { IndexName = IndexName, IndexHost = IndexHost });
        return source.AsMigrationSource(Options);
    }
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
    /// <param name="options">How to write: the same options Write-PineconeVector writes with.</param>
    public PineconeTargetSpec(ApiSecret apiKey, Uri controlPlane, PineconeSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ArgumentNullException.ThrowIfNull(controlPlane);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.IndexName);
        _apiKey = apiKey;
        Url = controlPlane;
        Options = options;
    }

    public override string System => "Pinecone";

    public Uri Url { get; }

    public string IndexName => Options.IndexName;

    /// <summary>How the copy writes (never a secret).</summary>
    public PineconeSinkOptions Options { get; }

    public override string Description =>
        $"Pinecone index '{IndexName}'{(Options.Namespace is null ? "" : $" namespace '{Options.Namespace}'")}";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new PineconeSink(new PineconeClient(_apiKey, transport, new PineconeClientOptions { ControlPlaneUrl = Url, DataPlaneScheme = Url.Scheme }), Options);

    /// <summary>The index read back (Test-VectorMigration on a copy's summary): every namespace, or the one the copy wrote into.</summary>
    public override MigrationSourceSpec AsSource() => new PineconeSourceSpec(_apiKey, Url, IndexName, Options.IndexHost,
        Options.Namespace is { } ns ? new PineconeReadOptions { Namespaces = [ns] } : null);

    /// <summary>Partitions kept in the checkpoint folder: the target upserts by id, so a batch written twice changes nothing.</summary>
    public override IPartitionLedger? OpenPartitionLedger(string? stateDirectory = null) => new FilePartitionLedger(stateDirectory);
}
