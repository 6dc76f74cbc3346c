using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Postgres;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// Split migrations into targets that upsert by id (Qdrant here), kept in the checkpoint folder: lanes and workers
/// copy each partition, a killed run resumes to an exact collection, a lane that lost its lease cannot move the
/// partition's position, and plain and split checkpoints of one name refuse each other.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FilePartitionLedgerTests(PostgresFixture pg, Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vecmigrate-split-").FullName;
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _transport.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<string> SourceAsync(int rows)
    {
        var cs = await pg.NewDatabaseAsync();
        await PgWriteModesTests.ExecAsync(cs, $"""
            CREATE TABLE src (id bigint PRIMARY KEY, embedding vector(3), title text);
            INSERT INTO src SELECT g * 3, ARRAY[g, g / 3.0, -g]::vector, 'doc ' || g FROM generate_series(1, {rows}) g;
            ANALYZE src;
            """);
        return cs;
    }

    private static MigrationSource Source(string cs) => PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "src", PageSize = 150 });

    private Task<MigrationSummary> RunAsync(QdrantStandIn server, string cs, int lanes, PartitionSelector? partition = null, string? holder = null,
        TimeSpan? lease = null, CancellationToken ct = default) =>
        PartitionedMigration.RunAsync(Source(cs), () => new QdrantSink(new QdrantClient(server.BaseAddress, null, _transport), new QdrantSinkOptions("dst") { BatchSize = 100, Distance = DistanceMetric.Dot }),
            new FilePartitionLedger(_folder), new PartitionedMigrationOptions
            {
                Checkpoint = "big", Resume = true, Lanes = lanes, Partition = partition, Holder = holder ?? PartitionNames.NewHolder(),
                Lease = lease ?? PartitionedMigrationOptions.DefaultLease, ReconnectDelay = TimeSpan.FromMilliseconds(50),
            }, cancellationToken: ct);

    private static async Task AssertExactAsync(QdrantStandIn server, string cs)
    {
        var expected = await Source(cs).Read(null).ToListAsync();
        Assert.Equal(expected.Count, server.Points("dst").Count);
        RecordAssert.SameSet(expected.Select(r => new VectorRecord(r.Id, r.Vectors, r.Payload)), server.Points("dst"));
    }

    [Fact]
    public async Task Four_lanes_copy_a_table_into_Qdrant_once_and_a_second_run_does_nothing()
    {
        var cs = await SourceAsync(3000);
        await using var server = await QdrantStandIn.StartAsync();
        var summary = await RunAsync(server, cs, lanes: 4);
        Assert.True(summary.Completed);
        Assert.Equal((4, 4, 3000L), (summary.PartitionCount, summary.PartitionsCompleted, summary.RecordsWritten));
        await AssertExactAsync(server, cs);
        Assert.True(File.Exists(Path.Combine(_folder, "big.partitions")));

        var again = await RunAsync(server, cs, lanes: 4);
        Assert.True(again.AlreadyComplete);
        Assert.Equal(0, again.RecordsWritten);
        // The folder lists the whole, and a plain run of the same name is refused rather than started beside it.
        var whole = Assert.Single(await new FileCheckpointStore(_folder).ListAsync());
        Assert.Equal(("big", 4, 3000L, true), (whole.Name, whole.Partitions, whole.Records, whole.Completed));
        var plain = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(Source(cs),
            new QdrantSink(new QdrantClient(server.BaseAddress, null, _transport), new QdrantSinkOptions("dst") { Distance = DistanceMetric.Dot }),
            new MigrationOptions { Checkpoint = "big", Resume = true, CheckpointStore = new FileCheckpointStore(_folder) }));
        Assert.Equal("MigrationCheckpointSplit", plain.ErrorId);
    }

    [Fact]
    public async Task Lanes_killed_at_random_then_resumed_leave_the_collection_exact()
    {
        var cs = await SourceAsync(6000);
        await using var server = await QdrantStandIn.StartAsync();
        var rng = new Random(11);
        MigrationSummary? last = null;
        var kills = 0;
        for (var run = 0; run < 60 && last is not { Completed: true }; run++)
        {
            using var kill = Cancellation.After(TimeSpan.FromMilliseconds(rng.Next(30, 400)));
            try
            {
                last = await RunAsync(server, cs, lanes: 3, ct: kill.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException || kill.IsCancellationRequested)
            {
                kills++;
                output.WriteLine($"run {run}: killed ({ex.GetType().Name}); {(server.Collections.Contains("dst") ? server.Count("dst") : 0)} points so far");
            }
        }
        Assert.True(kills >= 2, $"only {kills} run(s) were killed part way");
        Assert.True(last!.Completed);
        await AssertExactAsync(server, cs);
        Assert.Equal(6000, (await new FilePartitionLedger(_folder).GetAsync("big"))!.Records);
    }

    [Fact]
    public async Task Two_workers_take_different_partitions_and_together_copy_everything()
    {
        var cs = await SourceAsync(2000);
        await using var server = await QdrantStandIn.StartAsync();
        var results = await Task.WhenAll(
            RunAsync(server, cs, lanes: 1, partition: new PartitionSelector(1, 2), holder: "worker-a"),
            RunAsync(server, cs, lanes: 1, partition: new PartitionSelector(2, 2), holder: "worker-b"));
        Assert.Equal(2000, results.Sum(r => r.RecordsWritten));
        Assert.True(results.Count(r => r.Completed) >= 1); // whichever finished last completed the whole
        var split = (await new FilePartitionLedger(_folder).GetAsync("big"))!;
        Assert.True(split.Completed);
        Assert.All(split.Partitions, p => Assert.True(p.Completed));
        await AssertExactAsync(server, cs);
        var wrong = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(server, cs, lanes: 1, partition: new PartitionSelector(1, 3)));
        Assert.Equal("PartitionSplitMismatch", wrong.ErrorId);
    }

    [Fact]
    public async Task A_lane_that_lost_its_lease_cannot_move_the_position_and_the_new_holder_can()
    {
        var ledger = new FilePartitionLedger(_folder);
        await ledger.CreateAsync("big", "src", "dst", [("(a", "src part 1"), ("(b", "src part 2")]);
        Assert.True(await ledger.TryTakeAsync("big", 1, "old", TimeSpan.FromMilliseconds(30)));
        Assert.False(await ledger.TryTakeAsync("big", 1, "new", TimeSpan.FromMinutes(5))); // the lease is current
        await Task.Delay(60);
        Assert.True(await ledger.TryTakeAsync("big", 1, "new", TimeSpan.FromMinutes(5))); // it ran out: taken over
        var name = PartitionNames.Of("big", 1, 2);
        var stale = await Assert.ThrowsAsync<VecMigrateException>(() =>
            ledger.CheckpointStoreFor("old")!.SaveAsync(new MigrationCheckpoint(name, "src part 1", "dst", "[\"9\"]", 9, false, DateTimeOffset.UtcNow)));
        Assert.True(PartitionedMigration.IsLeaseLost(stale));
        await ledger.CheckpointStoreFor("new")!.SaveAsync(new MigrationCheckpoint(name, "src part 1", "dst", "[\"5\"]", 5, false, DateTimeOffset.UtcNow));
        var part = (await ledger.GetAsync("big"))!.Partitions[0];
        Assert.Equal(("new", "[\"5\"]", 5L), (part.Holder, part.Position, part.Records));
        Assert.True(part.LeaseUntil > DateTimeOffset.UtcNow.AddMinutes(4)); // the save renewed the lease

        // A plain checkpoint of a name refuses a split of it, and the reverse.
        await new FileCheckpointStore(_folder).SaveAsync(new MigrationCheckpoint("plain", "s", "t", null, 0, false, DateTimeOffset.UtcNow));
        var notSplit = await Assert.ThrowsAsync<VecMigrateException>(() => ledger.GetAsync("plain"));
        Assert.Equal("PartitionCheckpointNotSplit", notSplit.ErrorId);
        Assert.Equal(2, (await new FileCheckpointStore(_folder).GetAsync("big"))!.Partitions);
        Assert.True(await new FileCheckpointStore(_folder).RemoveAsync("big"));
        Assert.Null(await ledger.GetAsync("big"));
    }
}
