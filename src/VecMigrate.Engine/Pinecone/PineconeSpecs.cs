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
        return source.AsMigrationSource(new PineconeReadOptions { Namespaces = Namespace, IdPrefix = Prefix });
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
