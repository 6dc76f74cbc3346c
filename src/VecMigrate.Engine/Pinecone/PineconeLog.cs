using Microsoft.Extensions.Logging;

namespace VecMigrate.Engine.Pinecone;

/// <summary>Log lines of the Pinecone area (event ids 3000-3099). None of them ever carries the api key.</summary>
internal static partial class PineconeLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "Pinecone index {Index} at {Url}: {Deployment}, dimension {Dimension}, metric {Metric}, vector type {VectorType}")]
    public static partial void IndexDescribed(ILogger logger, string index, string url, PineconeDeployment deployment, int? dimension, string metric, string vectorType);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Reading Pinecone namespace '{Namespace}' of {Index} ({Count} records by describe_index_stats)")]
    public static partial void ReadingNamespace(ILogger logger, string @namespace, string index, long count);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug,
        Message = "Listed {Count} ids in namespace '{Namespace}' (more pages: {HasMore})")]
    public static partial void ListedPage(ILogger logger, int count, string @namespace, bool hasMore);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug,
        Message = "Fetching {Count} ids from namespace '{Namespace}' in {Calls} call(s)")]
    public static partial void Fetching(ILogger logger, int count, string @namespace, int calls);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning,
        Message = "Record '{Id}' in namespace '{Namespace}' was listed but not returned by fetch (deleted meanwhile?); skipped")]
    public static partial void ListedButMissing(ILogger logger, string id, string @namespace);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning,
        Message = "Namespace '{Namespace}' is not among the namespaces describe_index_stats reports; reading it anyway")]
    public static partial void NamespaceNotInStats(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Resuming in namespace '{Namespace}': the page no longer starts as it did (expected '{LastId}' at {Count}); skipping by id order instead")]
    public static partial void ResumePageChanged(ILogger logger, string @namespace, string lastId, int count);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug,
        Message = "describe_index_stats names the default namespace both \"\" and \"__default__\"; reading it once")]
    public static partial void DefaultNamespaceTwice(ILogger logger);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information,
        Message = "Finished Pinecone namespace '{Namespace}': {Emitted} records, {Missing} listed but missing")]
    public static partial void NamespaceDone(ILogger logger, string @namespace, long emitted, long missing);

    /// <summary>
    /// A page is listed and fetched. The reader starts on a page only when the caller takes the one before it, so
    /// once the page after the caller's is ready nothing more is asked for until the caller moves on.
    /// </summary>
    [LoggerMessage(EventId = 3009, Level = LogLevel.Trace,
        Message = "Pinecone page of namespace '{Namespace}' ready: {Count} records, {Missing} listed but missing")]
    public static partial void PageReady(ILogger logger, string @namespace, int count, int missing);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information,
        Message = "Writing to Pinecone index {Index} at {Url} ({VectorType}, dimension {Dimension}, metric {Metric}): values from vector '{Dense}', sparse values from '{Sparse}'")]
    public static partial void WritePlanned(ILogger logger, string index, string url, string vectorType, int? dimension, string metric, string dense, string sparse);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug,
        Message = "Upserted {Count} records ({Bytes} bytes) into Pinecone index {Index}, namespace '{Namespace}' ({Total} in all)")]
    public static partial void BatchUpserted(ILogger logger, int count, int bytes, string index, string @namespace, long total);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning,
        Message = "Vectors {Names} are not written to Pinecone index {Index}: only the vectors named are")]
    public static partial void VectorsLeftBehind(ILogger logger, string names, string index);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning,
        Message = "Pinecone index {Index} uses metric {Metric}, the source's vectors were made for {SourceMetric}: the vectors arrive unchanged, but queries rank by the index's metric")]
    public static partial void MetricDiffers(ILogger logger, string index, string metric, string sourceMetric);
}
