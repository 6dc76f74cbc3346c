using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Tests.EndToEnd;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>A Postgres cluster of its own (these tests crash it) and a Qdrant stand-in.</summary>
public sealed class RestartableCluster : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public QdrantStandIn Qdrant { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.StartAsync();
        Qdrant = await QdrantStandIn.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Qdrant.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>Postgres crashes and restarts in the middle of a migration: the run reconnects and goes on, or stops clearly and a resume completes it.</summary>
public sealed class PostgresRestartResumeTests(RestartableCluster cluster) : IClassFixture<RestartableCluster>
{
    private static PgVectorWriter Writer(string cs, PgWriteMode mode = PgWriteMode.Append) =>
        new(new PgWriteOptions { ConnectionString = cs, Table = "docs", BatchSize = 500, Mode = mode });

    private (MigrationSource Source, QdrantClient Client, List<Records.VectorRecord> Records) Seed(int count)
    {
        var collection = NewCollectionName();
        var records = ResumeKit.SeedCollection(cluster.Qdrant, collection, count, 32, seed: count);
        var client = new QdrantClient(cluster.Qdrant.BaseAddress, null, new VecMigrate.Engine.Http.RestTransport(FastRetry, TimeSpan.FromSeconds(30)));
        return (QdrantSource.AsMigrationSource(client, new QdrantReadOptions(collection) { PageSize = 250 }), client, records);
    }

    [Fact]
    public async Task A_crash_restart_in_the_middle_of_a_run_is_reconnected_and_the_run_ends_exact()
    {
        var (source, client, records) = Seed(20_000);
        using var _ = client;
        var cs = await cluster.Server.CreateDatabaseAsync();
        var logs = new CollectingLogger();
        Task? restart = null;
        MigrationSummary summary;
        // Slow answers keep the run going while the server is down and comes back.
        cluster.Qdrant.Faults.Delay = TimeSpan.FromMilliseconds(15);
        try
        {
            await using var writer = Writer(cs);
            summary = await Migration.RunAsync(source, writer, new MigrationOptions
            {
                Checkpoint = "crash",
                Resume = true,
                ReconnectDelay = TimeSpan.FromMilliseconds(500),
                Progress = p =>
                {
                    // Crash the server (pg_ctl -m immediate) while the run writes on: batches in flight die with it.
                    if (p.TotalRecords >= 5_000 && restart is null) restart = Task.Run(() => cluster.Server.RestartAsync(immediate: true));
                },
            }, logs);
        }
        finally
        {
            cluster.Qdrant.Faults.Delay = TimeSpan.Zero;
        }
        await restart!;
        Assert.True(summary.Reconnects >= 1, $"the run did not notice the restart: {summary}");
        Assert.Equal(20_000, summary.TotalRecords);
        Assert.Contains("Lost the connection to the target", logs.AllText);
        RecordAssert.SameSet(records, await ResumeKit.ReadTableAsync(cs, "docs"));
        var cp = Assert.Single(await PgCheckpointStore.ListAsync(cs));
        Assert.True(cp.Completed);
        Assert.Equal(20_000, cp.Records);
    }

    [Fact]
    public async Task Without_reconnects_a_restart_stops_the_run_with_a_clear_error_and_a_resume_completes_it_exactly()
    {
        var (source, client, records) = Seed(8_000);
        using var _ = client;
        var cs = await cluster.Server.CreateDatabaseAsync();
        VecMigrateException stopped;
        await using (var writer = Writer(cs))
        {
            stopped = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(source, writer, new MigrationOptions
            {
                Checkpoint = "crash",
                Resume = true,
                MaxReconnects = 0,
                Progress = p =>
                {
                    // The server goes down between batches: the next batch finds its connection dead.
                    if (p.TotalRecords == 1_500) cluster.Server.RestartAsync(immediate: true).GetAwaiter().GetResult();
                },
            }));
        }
        Assert.Equal("MigrationInterrupted", stopped.ErrorId);
        Assert.Equal(FailureKind.Unreachable, stopped.Kind);
        Assert.Contains("public.docs", stopped.Message);
        Assert.Contains("Checkpoint 'crash' records the 1500 records the target holds: resume it", stopped.Message);
        Assert.Equal("PgVectorBatchFailed", Assert.IsType<VecMigrateException>(stopped.InnerException).ErrorId);
        Assert.Equal(1_500, await PgReadBack.CountAsync(cs, "docs"));

        await using (var writer = Writer(cs))
        {
            var summary = await Migration.RunAsync(source, writer, new MigrationOptions { Checkpoint = "crash", Resume = true });
            Assert.Equal(1_500, summary.RecordsBefore);
            Assert.Equal(6_500, summary.RecordsRead);
        }
        RecordAssert.SameSet(records, await ResumeKit.ReadTableAsync(cs, "docs"));
    }

    [Fact]
    public async Task Without_a_checkpoint_an_append_is_not_replayed_after_a_restart_but_an_upsert_is()
    {
        var (source, client, records) = Seed(3_000);
        using var _ = client;
        var cs = await cluster.Server.CreateDatabaseAsync();
        Action<MigrationProgress> crashOnce(int at) => p =>
        {
            if (p.TotalRecords == at) cluster.Server.RestartAsync(immediate: true).GetAwaiter().GetResult();
        };
        await using (var writer = Writer(cs))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(source, writer,
                new MigrationOptions { Progress = crashOnce(1_000), ReconnectDelay = TimeSpan.FromMilliseconds(200) }));
            Assert.Equal("MigrationInterrupted", ex.ErrorId);
            Assert.Contains("name a checkpoint", ex.Message);
        }
        var upsertDb = await cluster.Server.CreateDatabaseAsync();
        await using (var writer = Writer(upsertDb, PgWriteMode.Upsert))
        {
            var summary = await Migration.RunAsync(source, writer,
                new MigrationOptions { Progress = crashOnce(1_000), ReconnectDelay = TimeSpan.FromMilliseconds(200) });
            Assert.Equal(1, summary.Reconnects);
        }
        RecordAssert.SameSet(records, await ResumeKit.ReadTableAsync(upsertDb, "docs"));
    }

    [Fact]
    public async Task A_Postgres_source_whose_server_crashes_mid_read_reconnects_and_reads_on_after_the_last_record_handed_on()
    {
        var (qdrant, client, records) = Seed(6_000);
        using var _ = client;
        var from = await cluster.Server.CreateDatabaseAsync();
        await using (var fill = Writer(from))
        {
            await Migration.RunAsync(qdrant, fill);
        }
        var expected = await ResumeKit.ReadTableAsync(from, "docs");
        var source = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = from, Table = "docs", PageSize = 400 });
        var logs = new CollectingLogger();
        var sink = new Pipeline.MemorySink(500);
        var summary = await Migration.RunAsync(source, sink, new MigrationOptions
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(300),
            Progress = p =>
            {
                if (p.TotalRecords == 2_000) cluster.Server.RestartAsync(immediate: true).GetAwaiter().GetResult();
            },
        }, logs);
        Assert.Equal(1, summary.Reconnects);
        Assert.Contains("Lost the connection to the source: Lost the connection to Postgres at", logs.AllText);
        Assert.Equal(0, summary.RecordsReread);
        Assert.Equal(6_000, summary.RecordsRead);
        Assert.Equal(6_000, sink.Writes); // the sink's open batch went on: nothing twice
        RecordAssert.SameSet(expected, sink.Stored.Values);
        Assert.Equal(records.Count, expected.Count);
    }
}
