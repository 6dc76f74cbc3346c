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
}
