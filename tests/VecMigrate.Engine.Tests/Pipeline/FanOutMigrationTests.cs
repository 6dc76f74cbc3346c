using VecMigrate.Engine.Files;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Files;
using VecMigrate.Engine.Tests.Postgres;
using VecMigrate.Testing.StandIns;
using Xunit.Abstractions;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// A source that cannot be split (a JSONL.gz file) copied with lanes: one reader, writers fanned out behind it. Lanes
/// commit out of order, each with a state of what it holds; a run stopped at any moment resumes to a digest-exact
/// target, into Postgres (states in the batches' transactions) and into Qdrant (upserts, states in the folder).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FanOutMigrationTests(PostgresFixture pg, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _transport.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> GzAsync(int count, int seed = 3)
    {
        var path = Path.Combine(_dir, $"f{count}-{seed}.jsonl.gz");
        await FileTestKit.WriteAsync(path, FileSplitTests.SimpleRecords(count, seed), batchSize: 500);
        return path;
    }

    private static PgVectorWriter PgSink(string cs, int batch = 70) => new(new PgWriteOptions { ConnectionString = cs, Table = "dst", BatchSize = batch });

    private static Task<MigrationSummary> ToPgAsync(string path, string cs, int lanes, Func<IRecordSink>? sink = null, string? holder = null,
        PartitionSelector? partition = null, CancellationToken ct = default) =>
        PartitionedMigration.RunAsync(FileSourceSpec.Source(path), sink ?? (() => PgSink(cs)), new PgPartitionLedger(cs), new PartitionedMigrationOptions
        {
            Checkpoint = "gz", Resume = true, Lanes = lanes, FanOutBatchSize = 100, Partition = partition, Holder = holder ?? PartitionNames.NewHolder(),
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
        }, cancellationToken: ct);

    private static async Task<IReadOnlyList<FanOutState>> StatesAsync(IPartitionLedger ledger) =>
        (await ledger.GetAsync("gz"))!.Partitions.Select(p => FanOutState.Parse(p.Position, p.Name)).ToList();

    // ------------------------------------------------------------------ the account

    [Fact]
    public void The_low_moves_only_past_units_done_in_order_and_the_ranges_above_it_are_kept()
    {
        var account = new FanOutLedger(new FanOutState(10, "9", [(20, 30)]));
        var a = account.Add(10, 15, "14", done: false);
        var b = account.Add(15, 20, "19", done: false);
        account.Add(20, 30, "29", done: true); // read past: an earlier run committed it
        var c = account.Add(30, 35, "34", done: false);
        account.Acknowledge(c);
        account.Acknowledge(b);
        var state = FanOutState.Parse(FanOutState.Format(account.Prefix(), 35, 36), "x");
        Assert.Equal((10L, "9"), (state.Low, state.After));
        Assert.Equal([(15L, 35L), (35L, 36L)], state.Done); // b, the skipped run and c are one range; the batch's own record apart
        account.Acknowledge(a);
        state = FanOutState.Parse(FanOutState.Format(account.Prefix()), "x");
        Assert.Equal((35L, "34"), (state.Low, state.After));
        Assert.Empty(state.Done);

        // Lanes' states together: after the highest low, skipping what any lane holds above it.
        var combined = FanOutState.Combine([new FanOutState(5, "4", [(8, 12), (40, 50)]), new FanOutState(10, "9", [(11, 20), (30, 31)]), FanOutState.Beginning]);
        Assert.Equal((10L, "9"), (combined.Low, combined.After));
        Assert.Equal([(10L, 20L), (30L, 31L), (40L, 50L)], combined.Done);
    }

    // ------------------------------------------------------------------ into Postgres

    [Fact]
    public async Task Three_lanes_behind_one_reader_copy_a_gzip_file_into_Postgres_digest_exact()
    {
        var path = await GzAsync(5000);
        var cs = await pg.NewDatabaseAsync();
        var summary = await ToPgAsync(path, cs, 3);
        Assert.True(summary.Completed);
        Assert.Equal((3, 3, 5000L), (summary.PartitionCount, summary.PartitionsCompleted, summary.RecordsWritten));
        Assert.All(summary.Parts!, p => Assert.True(p.RecordsWritten > 0, $"{p.Checkpoint} wrote nothing"));
        Assert.Equal(await FileSplitTests.DigestOfAsync(FileSourceSpec.Source(path)), await FileSplitTests.DigestOfAsync(FileSplitTests.Table(cs)));
        Assert.Equal(5000, await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'gz'"));
        Assert.True((await ToPgAsync(path, cs, 3)).AlreadyComplete);
    }

    [Fact]
    public async Task Batches_committed_out_of_order_are_skipped_on_resume_and_the_rest_written_once()
    {
        var path = await GzAsync(4000);
        var cs = await pg.NewDatabaseAsync();
        // The first lane (the first sink opened is the runner's probe) is slow to commit: the others commit past its open batch.
        var opened = 0;
        IRecordSink Sink() => Interlocked.Increment(ref opened) == 2 ? new SlowFlush(PgSink(cs), TimeSpan.FromSeconds(30)) : PgSink(cs);
        using (var stop = Cancellation.After(TimeSpan.FromSeconds(3)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToPgAsync(path, cs, 3, Sink, ct: stop.Token));
        }
        var states = await StatesAsync(new PgPartitionLedger(cs));
        var resumeFrom = FanOutState.Combine(states);
        output.WriteLine($"low {resumeFrom.Low}, done {string.Join(" ", resumeFrom.Done)}");
        Assert.NotEmpty(resumeFrom.Done); // committed above a batch that was rolled back
        var held = await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT count(*) FROM dst");
        Assert.Equal(resumeFrom.Low + resumeFrom.Done.Sum(d => d.End - d.Start), held); // the states say exactly what the table holds

        // Append: a record written twice would fail its batch on the primary key.
        var resumed = await ToPgAsync(path, cs, 2);
        Assert.True(resumed.Completed);
        Assert.Equal(4000 - held, resumed.RecordsWritten);
        Assert.Equal(await FileSplitTests.DigestOfAsync(FileSourceSpec.Source(path)), await FileSplitTests.DigestOfAsync(FileSplitTests.Table(cs)));
        Assert.Equal(4000, await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'gz'"));
    }

    [Fact]
    public async Task Lanes_killed_at_random_moments_and_resumed_leave_Postgres_digest_exact()
    {
        var path = await GzAsync(20_000);
        var cs = await pg.NewDatabaseAsync();
        var rng = new Random(11);
        MigrationSummary? last = null;
        var kills = 0;
        for (var run = 0; run < 80 && last is not { Completed: true }; run++)
        {
            using var kill = Cancellation.After(TimeSpan.FromMilliseconds(rng.Next(50, 600)));
            try
            {
                last = await ToPgAsync(path, cs, 3, ct: kill.Token);
            }
            catch (Exception ex) when (kill.IsCancellationRequested && (ex is OperationCanceledException || ex.InnerException is OperationCanceledException || ex is VecMigrateException))
            {
                kills++;
                output.WriteLine($"run {run}: killed ({ex.GetType().Name}); states {string.Join(" | ", (await TryStatesAsync(cs)).Select(s => $"{s.Low}+{s.Done.Count}"))}");
            }
        }
        Assert.True(kills >= 3, $"only {kills} run(s) were killed part way");
        Assert.True(last!.Completed);
        Assert.Equal(await FileSplitTests.DigestOfAsync(FileSourceSpec.Source(path)), await FileSplitTests.DigestOfAsync(FileSplitTests.Table(cs)));
        Assert.Equal(20_000, await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'gz'"));
    }

    private static async Task<IReadOnlyList<FanOutState>> TryStatesAsync(string cs)
    {
        try
        {
            return await StatesAsync(new PgPartitionLedger(cs));
        }
        catch (Exception)
        {
            return []; // killed before the checkpoint was made
        }
    }

    [Fact]
    public async Task A_second_process_and_a_worker_given_a_partition_are_refused_while_one_reader_copies()
    {
        var path = await GzAsync(3000);
        var cs = await pg.NewDatabaseAsync();
        var worker = await Assert.ThrowsAsync<VecMigrateException>(() => ToPgAsync(path, cs, 1, partition: new PartitionSelector(1, 2)));
        Assert.Equal("MigrationSourceCannotSplit", worker.ErrorId);
        Assert.Contains("-Parallel", worker.Message);

        var opened = 0;
        IRecordSink Slow() => Interlocked.Increment(ref opened) == 2 ? new SlowFlush(PgSink(cs), TimeSpan.FromSeconds(30)) : PgSink(cs);
        using var stop = new CancellationTokenSource();
        var first = ToPgAsync(path, cs, 2, Slow, holder: "first", ct: stop.Token);
        while (await TryStatesAsync(cs) is { Count: 0 }) await Task.Delay(50);
        var second = await Assert.ThrowsAsync<VecMigrateException>(() => ToPgAsync(path, cs, 2, holder: "second"));
        Assert.Equal("PartitionHeld", second.ErrorId);
        Assert.Contains("first", second.Message);
        stop.CancelQuietly();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        // Stopped, the first gave its lanes up: the next run goes on at once.
        Assert.True((await ToPgAsync(path, cs, 2, holder: "second")).Completed);
        Assert.Equal(await FileSplitTests.DigestOfAsync(FileSourceSpec.Source(path)), await FileSplitTests.DigestOfAsync(FileSplitTests.Table(cs)));
    }

    // ------------------------------------------------------------------ into Qdrant (upserts)

    [Fact]
    public async Task Lanes_killed_at_random_moments_and_resumed_leave_Qdrant_digest_exact()
    {
        var path = await GzAsync(20_000, seed: 5);
        await using var server = await QdrantStandIn.StartAsync();
        server.Faults.Delay = TimeSpan.FromMilliseconds(3); // each upsert takes a moment, so that runs are stopped part way
        var folder = Path.Combine(_dir, "state");
        var rng = new Random(12);
        MigrationSummary? last = null;
        var kills = 0;
        Task<MigrationSummary> RunAsync(CancellationToken ct) => PartitionedMigration.RunAsync(FileSourceSpec.Source(path),
            () => new QdrantSink(new QdrantClient(server.BaseAddress, null, _transport), new QdrantSinkOptions("dst") { BatchSize = 64, Distance = DistanceMetric.Dot }),
            new FilePartitionLedger(folder), new PartitionedMigrationOptions { Checkpoint = "gz", Resume = true, Lanes = 3, FanOutBatchSize = 100 }, cancellationToken: ct);
        for (var run = 0; run < 80 && last is not { Completed: true }; run++)
        {
            using var kill = Cancellation.After(TimeSpan.FromMilliseconds(rng.Next(30, 300)));
            try
            {
                last = await RunAsync(kill.Token);
            }
            catch (Exception ex) when (kill.IsCancellationRequested && (ex is OperationCanceledException || ex.InnerException is OperationCanceledException || ex is VecMigrateException))
            {
                kills++;
                output.WriteLine($"run {run}: killed ({ex.GetType().Name}); {PointsIn(server)} points");
            }
        }
        Assert.True(kills >= 3, $"only {kills} run(s) were killed part way");
        Assert.True(last!.Completed);
        var target = new VectorDigest();
        foreach (var p in server.Points("dst")) target.Add(p);
        Assert.Equal(await FileSplitTests.DigestOfAsync(FileSourceSpec.Source(path)), $"{target.Count}:{target.Value}");
        Assert.True((await RunAsync(default)).AlreadyComplete);
    }

    private static int PointsIn(QdrantStandIn server)
    {
        try
        {
            return server.Points("dst").Count;
        }
        catch (ArgumentException)
        {
            return 0; // killed before the collection was made
        }
    }

    /// <summary>A sink whose commits wait (a slow lane), so that the other lanes commit past it.</summary>
    private sealed class SlowFlush(IRecordSink inner, TimeSpan delay) : IRecordSink
    {
        public string Target => inner.Target;

        public bool Idempotent => inner.Idempotent;

        public event Action<AcknowledgedBatch>? BatchAcknowledged
        {
            add => inner.BatchAcknowledged += value;
            remove => inner.BatchAcknowledged -= value;
        }

        public ICheckpointStore? AttachCheckpoint(string name, string source, bool resume) => inner.AttachCheckpoint(name, source, resume);

        public bool AttachLease(string holder, TimeSpan lease) => inner.AttachLease(holder, lease);

        public ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default) => inner.WriteAsync(record, cancellationToken);

        public async Task FlushAsync(CancellationToken cancellationToken = default)
        {
            await Task.Delay(delay, cancellationToken);
            await inner.FlushAsync(cancellationToken);
        }

        public Task CompleteAsync(CancellationToken cancellationToken = default) => inner.CompleteAsync(cancellationToken);

        public Task ReopenAsync(CancellationToken cancellationToken = default) => inner.ReopenAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
