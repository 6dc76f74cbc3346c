using VecMigrate.Engine.Milvus;
using VecMigrate.Engine;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Testing;

/// <summary>
/// Writes a stream of records into a sink through the engine's one runner (<see cref="Migration"/>), as the Write-
/// cmdlets and Copy-VectorData do, and returns the sink's own summary.
/// </summary>
public static class SinkRuns
{
    public static async Task<PgWriteSummary> WriteThroughRunnerAsync(this PgVectorWriter sink, IAsyncEnumerable<VectorRecord> records,
        Action<RecordRejectedException>? onRejected = null, CancellationToken cancellationToken = default)
    {
        await RunAsync(sink, records, onRejected, cancellationToken);
        return sink.Summary;
    }

    public static async Task<QdrantWriteSummary> WriteThroughRunnerAsync(this QdrantSink sink, IAsyncEnumerable<VectorRecord> records,
        Action<RecordRejectedException>? onRejected = null, CancellationToken cancellationToken = default)
    {
        await RunAsync(sink, records, onRejected, cancellationToken);
        return sink.Summary;
    }

    public static async Task<PineconeWriteSummary> WriteThroughRunnerAsync(this PineconeSink sink, IAsyncEnumerable<VectorRecord> records,
        Action<RecordRejectedException>? onRejected = null, CancellationToken cancellationToken = default)
    {
        await RunAsync(sink, records, onRejected, cancellationToken);
        return sink.Summary;
    }

    public static async Task<MilvusWriteSummary> WriteThroughRunnerAsync(this MilvusSink sink, IAsyncEnumerable<VectorRecord> records,
        Action<RecordRejectedException>? onRejected = null, CancellationToken cancellationToken = default)
    {
        await RunAsync(sink, records, onRejected, cancellationToken);
        return sink.Summary;
    }

    /// <summary>The run itself: records read once, refusals to <paramref name="onRejected"/> (null: the first stops the run).</summary>
    public static Task<MigrationSummary> RunAsync(IRecordSink sink, IAsyncEnumerable<VectorRecord> records,
        Action<RecordRejectedException>? onRejected = null, CancellationToken cancellationToken = default) =>
        Migration.RunAsync(MigrationSource.Once("test records", records), sink, new MigrationOptions
        {
            OnRejected = onRejected is null ? null : (e, _) =>
            {
                onRejected(e);
                return ValueTask.CompletedTask;
            },
        }, cancellationToken: cancellationToken);
}
