using System.Collections.Concurrent;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Pipeline;

[Collection(PostgresCollection.Name)]
public sealed class BackgroundWriterTests(PostgresFixture pg)
{
    private static VectorRecord Record(ulong id) => Dense(id, [1, 2]);

    /// <summary>
    /// A sink that keeps what it is given (one batch per record), refuses the ids asked, can be held at a gate before
    /// each record, and tells when it has entered a write: tests wait for what it did, never for time to pass.
    /// </summary>
    private sealed class GatedSink : IRecordSink
    {
        public ConcurrentQueue<ulong> Written { get; } = new();
        public HashSet<ulong> Refuse { get; init; } = [];
        public bool Completed { get; private set; }
        public bool Disposed { get; private set; }
        public Exception? FailOn { get; init; }
        public ulong FailAt { get; init; } = ulong.MaxValue;

        /// <summary>When set, each write waits for one release (null: writes pass at once).</summary>
        public SemaphoreSlim? Gate { get; init; }

        /// <summary>Ids as writes start, in order.</summary>
        public BlockingCollection<ulong> Entered { get; } = new();

        public string Target => "gated sink";
        public bool Idempotent => true;
        public event Action<AcknowledgedBatch>? BatchAcknowledged;

        public async ValueTask WriteAsync(VectorRecord r, CancellationToken ct)
        {
            Entered.Add(r.Id.AsUnsigned, ct);
            if (Gate is not null) await Gate.WaitAsync(ct);
            await Task.Yield();
            if (r.Id.AsUnsigned == FailAt) throw FailOn!;
            if (Refuse.Contains(r.Id.AsUnsigned)) throw new RecordRejectedException("TestRefused", $"Record {r.Id} refused.", r);
            Written.Enqueue(r.Id.AsUnsigned);
            BatchAcknowledged?.Invoke(new AcknowledgedBatch(1, r.Position));
        }

        public Task FlushAsync(CancellationToken ct) => Task.CompletedTask;

        public Task CompleteAsync(CancellationToken ct)
        {
            Completed = true;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private static async Task PostAllAsync(BackgroundWriter w, IEnumerable<VectorRecord> records, Action<RecordRejectedException> report)
    {
        foreach (var r in records)
        {
            while (!w.TryPost(r))
            {
                await w.WaitAsync();
                w.ReportRejected(report);
            }
            w.ReportRejected(report);
        }
        w.EndInput();
        while (!w.IsDone)
        {
            await w.WaitAsync();
            w.ReportRejected(report);
        }
        await w.WaitAsync(); // throws the run's failure
    }

    private static ulong Next(GatedSink sink) =>
        sink.Entered.TryTake(out var id, TimeSpan.FromSeconds(10)) ? id : throw new TimeoutException("The sink did not start a write.");

    [Fact]
    public async Task Every_record_reaches_the_sink_in_order_and_refusals_come_back_to_the_caller()
    {
        var sink = new GatedSink { Refuse = [3, 700] };
        await using var w = new BackgroundWriter(sink, "test records", capacity: 8);
        var reported = new List<RecordRejectedException>();

        await PostAllAsync(w, Enumerable.Range(1, 1000).Select(i => Record((ulong)i)), reported.Add);

        Assert.True(sink.Completed);
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (ulong)i).Where(i => i is not 3 and not 700), sink.Written.ToArray());
        Assert.Equal(["3", "700"], reported.Select(r => r.Record.Id.ToString()));
        Assert.Equal(1000, w.Posted);
        Assert.Equal(998, w.Summary!.RecordsWritten);
        Assert.Equal(2, w.Summary.RecordsRejected);
    }

    [Fact]
    public async Task A_full_channel_says_no_without_waiting_and_WaitAsync_returns_when_there_is_room()
    {
        var gate = new SemaphoreSlim(0);
        var sink = new GatedSink { Gate = gate };
        await using var w = new BackgroundWriter(sink, "test records", capacity: 2);

        Assert.True(w.TryPost(Record(1)));
        Assert.Equal(1UL, Next(sink)); // the sink holds record 1
        Assert.True(w.TryPost(Record(2)));
        Assert.True(w.TryPost(Record(3)));
        Assert.False(w.TryPost(Record(4))); // two wait in the channel: full

        var waiting = w.WaitAsync();
        Assert.False(waiting.IsCompleted); // nothing has moved: the sink is held at its gate
        gate.Release();
        Assert.Equal(2UL, Next(sink)); // record 2 left the channel: there is room
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(w.TryPost(Record(4)));
        gate.Release(10);
        await PostAllAsync(w, [], _ => { });
        Assert.Equal([1UL, 2, 3, 4], sink.Written.ToArray());
    }

    [Fact]
    public async Task The_run_waits_at_a_refusal_until_it_is_reported()
    {
        var gate = new SemaphoreSlim(0);
        var sink = new GatedSink { Refuse = [2], Gate = gate };
        await using var w = new BackgroundWriter(sink, "test records");
        for (ulong i = 1; i <= 5; i++) Assert.True(w.TryPost(Record(i)));
        w.EndInput(); // so that WaitAsync waits for the run, not for room in the channel
        gate.Release(2); // records 1 and 2 may pass the gate; 2 is refused

        await w.WaitAsync().WaitAsync(TimeSpan.FromSeconds(10)); // wakes for the refusal
        Assert.Equal([1UL], sink.Written.ToArray()); // record 3 is behind the gate whatever the run does
        gate.Release(10);

        var reported = new List<RecordRejectedException>();
        Assert.Equal(1, w.ReportRejected(reported.Add));
        await PostAllAsync(w, [], reported.Add);
        Assert.Equal([1UL, 3, 4, 5], sink.Written.ToArray());
    }

    [Fact]
    public async Task A_sink_failure_is_thrown_to_the_caller_by_the_next_call()
    {
        var failure = new VecMigrateException(FailureKind.WriteFailed, "TestBatchFailed", "The batch failed.");
        var sink = new GatedSink { FailAt = 3, FailOn = failure };
        await using var w = new BackgroundWriter(sink, "test records", capacity: 4);
        for (ulong i = 1; i <= 4; i++) w.TryPost(Record(i));

        var thrown = await Assert.ThrowsAsync<VecMigrateException>(async () =>
        {
            while (true)
            {
                await w.WaitAsync();
                w.TryPost(Record(99));
            }
        });
        Assert.Same(failure, thrown);
        Assert.Same(failure, Assert.Throws<VecMigrateException>(() => w.TryPost(Record(100))));
        Assert.Same(failure, w.Failure);
    }

    [Fact]
    public async Task Stopping_at_a_refusal_keeps_the_committed_batches_and_rolls_back_the_open_one()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2));
        var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "t", BatchSize = 3 });
        var w = new BackgroundWriter(writer, "test records");
        // Record 5 has the wrong dimension: records 1-3 are a committed batch, 4 is in the open one.
        var records = Enumerable.Range(1, 20).Select(i => Dense((ulong)i, i == 5 ? [1, 2, 3] : [1, 2], schema: schema));
        var stopped = await Assert.ThrowsAsync<RecordRejectedException>(async () =>
            await PostAllAsync(w, records, e => throw e));
        Assert.Equal("5", stopped.Record.Id.ToString());
        await w.DisposeAsync(); // what PowerShell does when -ErrorAction Stop ends the command

        var rows = await RowsAsync(cs, "t", []);
        Assert.Equal(["1", "2", "3"], rows.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task Disposing_while_writing_cancels_the_run_and_disposes_the_sink()
    {
        var gate = new SemaphoreSlim(0);
        var sink = new GatedSink { Gate = gate };
        var w = new BackgroundWriter(sink, "test records");
        w.TryPost(Record(1));
        Assert.Equal(1UL, Next(sink)); // held at the gate, which never opens
        await w.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsAssignableFrom<OperationCanceledException>(w.Failure);
        Assert.Empty(sink.Written);
        Assert.True(sink.Disposed);
    }

    [Fact]
    public async Task A_checkpoint_of_piped_records_is_the_one_a_copy_of_the_same_read_keeps()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2));
        const string read = "Qdrant http://q:6333/ collection 'docs'";
        var origin = new RecordOrigin(SourceKind.Qdrant, "http://q:6333/", "docs") { Read = read };
        VectorRecord R(int i) => new((ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1]) }, null)
        {
            Schema = schema, Origin = origin, Position = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var options = new PgWriteOptions { ConnectionString = cs, Table = "t", BatchSize = 4 };
        var first = new BackgroundWriter(new PgVectorWriter(options), MigrationSource.DescribeOrigin(R(1)), new MigrationOptions { Checkpoint = "cp" });
        // Record 10 has the wrong dimension and the caller stops there (-ErrorAction Stop): batches 1-4 and 5-8 stay.
        var bad = new VectorRecord(10UL, new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3]) }, null) { Schema = schema, Origin = origin, Position = "10" };
        await using (first)
        {
            await Assert.ThrowsAsync<RecordRejectedException>(() => PostAllAsync(first, Enumerable.Range(1, 9).Select(R).Append(bad), e => throw e));
        }

        // The same read, resumed the way Copy-VectorData reads: the checkpoint is accepted and goes on after record 8.
        await using var sink = new PgVectorWriter(options);
        var summary = await Migration.RunAsync(new MigrationSource(read, after => Records(after, 15)), sink, new MigrationOptions { Checkpoint = "cp", Resume = true });
        Assert.Equal("8", summary.ResumedAfter);
        Assert.Equal(7, summary.RecordsWritten);
        Assert.Equal(15, summary.TotalRecords);
        Assert.Equal(15, (await RowsAsync(cs, "t", [])).Count);

        async IAsyncEnumerable<VectorRecord> Records(string? after, int last)
        {
            await Task.Yield();
            for (var i = after is null ? 1 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture) + 1; i <= last; i++) yield return R(i);
        }
    }
}
