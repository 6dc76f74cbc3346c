using Microsoft.Extensions.Logging;

namespace VecMigrate.Engine.Qdrant;

/// <summary>Qdrant's log lines (event ids 2000-2099). Urls here never carry credentials; keys never appear.</summary>
internal static partial class QdrantLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Qdrant {Method} {Url}: HTTP {Status}, {Bytes} bytes in {ElapsedMs:0.#} ms")]
    public static partial void Answered(ILogger logger, string method, string url, int status, long bytes, double elapsedMs);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Qdrant scroll of '{Collection}' from {Offset}: {Count} points, next page at {Next}")]
    public static partial void PageFetched(ILogger logger, string collection, string offset, int count, string next);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Qdrant collection '{Collection}' holds id kinds {IdKinds} (probed with two one-point scrolls)")]
    public static partial void IdKindsProbed(ILogger logger, string collection, string idKinds);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Qdrant read of '{Collection}' resumes after point {Id}")]
    public static partial void Resuming(ILogger logger, string collection, string id);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "{What}: the answer broke off ({Reason}); attempt {Attempt} of {Max}, retrying in {DelayMs:0} ms")]
    public static partial void BodyRetry(ILogger logger, string what, string reason, int attempt, int max, double delayMs);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Qdrant read of '{Collection}' finished: {Count} points in {Pages} pages")]
    public static partial void ReadFinished(ILogger logger, string collection, long count, int pages);

    /// <summary>
    /// The reader has as many pages waiting as it may and asks for no more until the caller takes one: the writer,
    /// not Qdrant, sets the pace. Logged each time the reader starts to wait (also before the caller has taken its first
    /// page); tests wait for the one with the pages they expect fetched, which a bound that leaked never logs.
    /// </summary>
    [LoggerMessage(EventId = 2006, Level = LogLevel.Trace, Message = "Qdrant read of '{Collection}': {Pages} pages read ahead wait for the caller ({Fetched} fetched so far); no further page is asked for until it takes one")]
    public static partial void ReadAheadFull(ILogger logger, string collection, int pages, int fetched);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Created Qdrant collection '{Collection}' ({Vectors})")]
    public static partial void CollectionCreated(ILogger logger, string collection, string vectors);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Qdrant collection '{Collection}': {Warning}")]
    public static partial void TargetWarning(ILogger logger, string collection, string warning);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Debug, Message = "Upserted a batch of {Count} points ({Bytes} bytes) into Qdrant collection '{Collection}' ({Total} in all) in {ElapsedMs:0.#} ms")]
    public static partial void BatchUpserted(ILogger logger, int count, int bytes, string collection, long total, double elapsedMs);
}
