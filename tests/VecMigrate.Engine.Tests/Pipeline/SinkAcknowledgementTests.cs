using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Qdrant;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>Qdrant and Pinecone sinks as a migration's <see cref="IRecordSink"/>: what they acknowledge, and resuming after a failed batch.</summary>
public sealed class SinkAcknowledgementTests(QdrantStandInFixture qdrant) : IClassFixture<QdrantStandInFixture>
{
    private static VectorRecord Dense(ulong id, string? ns = null) =>
        new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector([id, 1, 2]) }, null) { Position = "p" + id, Namespace = ns };

    [Fact]
    public async Task Qdrant_acknowledges_each_batchs_last_position_only_after_the_stand_in_took_it_and_resumes_after_a_failed_batch()
    {
        var name = QdrantTestKit.NewCollectionName();
        using var client = qdrant.Client();
        await using var sink = new QdrantSink(client, new QdrantSinkOptions(name) { BatchSize = 2, Distance = DistanceMetric.Dot });
        IRecordSink target = sink;
        var acks = new List<AcknowledgedBatch>();
        target.BatchAcknowledged += acks.Add;

        await target.WriteAsync(Dense(1));
        Assert.Empty(acks); // one record in the open batch: nothing sent yet
        await target.WriteAsync(Dense(2));
        Assert.Equal([new AcknowledgedBatch(2, "p2")], acks);
        Assert.Equal(2, qdrant.Server.Count(name));

        qdrant.Server.Faults.FailNext(QdrantTestKit.FastRetry.MaxAttempts, 503);
        await target.WriteAsync(Dense(3));
        await Assert.ThrowsAnyAsync<VecMigrateException>(() => target.WriteAsync(Dense(4)).AsTask());
        Assert.Single(acks); // the failed batch was not acknowledged

        await target.ReopenAsync();
        foreach (var id in new ulong[] { 3, 4, 5 }) await target.WriteAsync(Dense(id));
        await target.CompleteAsync();
        Assert.Equal([new AcknowledgedBatch(2, "p2"), new AcknowledgedBatch(2, "p4"), new AcknowledgedBatch(1, "p5")], acks);
        Assert.Equal(5, qdrant.Server.Count(name));
        Assert.True(target.Idempotent);
        Assert.Equal($"Qdrant {client.Endpoint} collection '{name}'", target.Target);
    }

    [Fact]
    public async Task Pinecone_acknowledges_each_batchs_last_position_only_after_the_stand_in_took_it_and_resumes_after_a_failed_request()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        await kit.StandIn.CreateIndexAsync("acks", 3, "dotproduct");
        await using var sink = kit.Sink("acks", ns: "prod", batchSize: 2);
        IRecordSink target = sink;
        var acks = new List<AcknowledgedBatch>();
        target.BatchAcknowledged += acks.Add;

        await target.WriteAsync(Dense(1));
        Assert.Empty(acks);
        await target.WriteAsync(Dense(2));
        Assert.Equal([new AcknowledgedBatch(2, "p2")], acks);

        kit.StandIn.FailNext(PineconeTestKit.FastRetry.MaxAttempts, 503, pathPrefix: "/vectors/upsert");
        await target.WriteAsync(Dense(3));
        await Assert.ThrowsAnyAsync<VecMigrateException>(() => target.WriteAsync(Dense(4)).AsTask());
        Assert.Single(acks);

        await target.ReopenAsync();
        foreach (var id in new ulong[] { 3, 4, 5 }) await target.WriteAsync(Dense(id));
        await target.CompleteAsync();
        Assert.Equal([new AcknowledgedBatch(2, "p2"), new AcknowledgedBatch(2, "p4"), new AcknowledgedBatch(1, "p5")], acks);
        Assert.Equal(5, sink.Summary.RecordsWritten);
        Assert.True(target.Idempotent);
        Assert.Equal("Pinecone index 'acks'", target.Target);
        Assert.DoesNotContain(PineconeStandInKey(kit), target.Target);
    }

    [Fact]
    public async Task A_migration_into_Qdrant_that_loses_its_connection_reopens_the_sink_and_ends_with_every_point_once()
    {
        var name = QdrantTestKit.NewCollectionName();
        var dir = Path.Combine(Path.GetTempPath(), "vecmigrate-qcp-" + Guid.NewGuid().ToString("N")[..10]);
        var records = Enumerable.Range(1, 300).Select(i => Dense((ulong)i)).ToList();
        var source = new MigrationSource("List source", after => Read(records, after));
        using var client = qdrant.Client();
        await using var sink = new QdrantSink(client, new QdrantSinkOptions(name) { BatchSize = 40, Distance = DistanceMetric.Dot });
        var batches = 0;
        ((IRecordSink)sink).BatchAcknowledged += b =>
        {
            // Cut every attempt of the fourth upsert: the transport gives up, and the runner must reconnect.
            if (++batches == 3) qdrant.Server.Faults.CutNext(QdrantTestKit.FastRetry.MaxAttempts, pathEndsWith: "/points");
        };
        try
        {
            var summary = await Migration.RunAsync(source, sink, new MigrationOptions
            {
                Checkpoint = "q1", CheckpointStore = new FileCheckpointStore(dir), MaxReconnects = 3, ReconnectDelay = TimeSpan.FromMilliseconds(1),
            });
            Assert.Equal(300, summary.TotalRecords);
            Assert.Equal(300, qdrant.Server.Count(name));
            Assert.True(summary.Reconnects >= 1, "the cut upsert did not make the runner reconnect, so the test proves nothing");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (DirectoryNotFoundException) { }
        }
    }

    private static async IAsyncEnumerable<VectorRecord> Read(List<VectorRecord> records, string? after)
    {
        var from = after is null ? 0 : records.FindIndex(r => r.Position == after) + 1;
        for (var i = from; i < records.Count; i++)
        {
            await Task.Yield();
            yield return records[i];
        }
    }

    private static string PineconeStandInKey(PineconeTestKit kit) => kit.StandIn.ApiKey;
}
