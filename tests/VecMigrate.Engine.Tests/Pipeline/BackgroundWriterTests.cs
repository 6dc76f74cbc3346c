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

    /// <summary>A sink that keeps what it is given, refuses the ids asked, and can be held up.</summary>
    private sealed class MemorySink
    {
        public ConcurrentQueue<ulong> Written { get; } = new();
        public HashSet<ulong> Refuse { get; init; } = [];
        public bool Completed { get; private set; }
        public Exception? FailOn { get; init; }
        public ulong FailAt { get; init; } = ulong.MaxValue;

        public async ValueTask WriteAsync(VectorRecord r, CancellationToken ct)
        {
            await Task.Yield();
            if (r.Id.AsUnsigned == FailAt) throw FailOn!;
            if (Refuse.Contains(r.Id.AsUnsigned)) throw new RecordRejectedException("TestRefused", $"Record {r.Id} refused.", r);
            Written.Enqueue(r.Id.AsUnsigned);
        }

        public Task CompleteAsync(CancellationToken ct)
        {
            Completed = true;
            return Task.CompletedTask;
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
        while (!w.IsDrained)
        {
            await w.WaitAsync();
            w.ReportRejected(report);
        }
    }

    [Fact]
    public async Task Every_record_reaches_the_sink_in_order_and_refusals_come_back_to_the_caller()
    {
        var sink = new MemorySink { Refuse = [3, 700] };
        await using var w = new BackgroundWriter(sink.WriteAsync, sink.CompleteAsync, capacity: 8);
        var reported = new List<RecordRejectedException>();

        await PostAllAsync(w, Enumerable.Range(1, 1000).Select(i => Record((ulong)i)), reported.Add);
        Assert.False(sink.Completed); // drained, the last batch not yet committed
        await w.CompleteAsync();

        Assert.True(sink.Completed);
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (ulong)i).Where(i => i is not 3 and not 700), sink.Written.ToArray());
        Assert.Equal(["3", "700"], reported.Select(r => r.Record.Id.ToString()));
        Assert.Equal(1000, w.Posted);
        Assert.Equal(998, w.Written);
    }

    [Fact]
    public async Task A_full_channel_says_no_without_waiting_and_WaitAsync_returns_when_there_is_room()
    {
        var sink = new MemorySink();
        var entered = new TaskCompletionSource();
        var held = new SemaphoreSlim(0);
        await using var w = new BackgroundWriter(async (r, ct) =>
        {
            entered.TrySetResult();
            await held.WaitAsync(ct);
            await sink.WriteAsync(r, ct);
        }, sink.CompleteAsync, capacity: 2);

        Assert.True(w.TryPost(Record(1)));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the sink holds record 1
        Assert.True(w.TryPost(Record(2)));
        Assert.True(w.TryPost(Record(3)));
        Assert.False(w.TryPost(Record(4))); // two wait in the channel: full

        var waiting = w.WaitAsync();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        held.Release();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(w.TryPost(Record(4)));
        held.Release(10);
        w.EndInput();
        while (!w.IsDrained) await w.WaitAsync();
        await w.CompleteAsync();
        Assert.Equal([1UL, 2, 3, 4], sink.Written.ToArray());
    }

    [Fact]
    public async Task The_sink_waits_at_a_refusal_until_it_is_reported()
    {
        var sink = new MemorySink { Refuse = [2] };
        await using var w = new BackgroundWriter(sink.WriteAsync, sink.CompleteAsync);
        for (ulong i = 1; i <= 5; i++) Assert.True(w.TryPost(Record(i)));

        await w.WaitAsync().WaitAsync(TimeSpan.FromSeconds(10)); // wakes for the refusal
        await Task.Delay(100);
        Assert.Equal([1UL], sink.Written.ToArray()); // nothing after the refused record yet

        var reported = new List<RecordRejectedException>();
        Assert.Equal(1, w.ReportRejected(reported.Add));
        w.EndInput();
        while (!w.IsDrained) await w.WaitAsync();
        await w.CompleteAsync();
        Assert.Equal([1UL, 3, 4, 5], sink.Written.ToArray());
    }

    [Fact]
    public async Task A_sink_failure_is_thrown_to_the_caller_by_the_next_call()
    {
        var failure = new VecMigrateException(FailureKind.WriteFailed, "TestBatchFailed", "The batch failed.");
        var sink = new MemorySink { FailAt = 3, FailOn = failure };
        await using var w = new BackgroundWriter(sink.WriteAsync, sink.CompleteAsync, capacity: 4);
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
        var w = new BackgroundWriter(writer.WriteAsync, writer.CompleteAsync, writer);
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
    public async Task Disposing_while_writing_cancels_the_sink_and_disposes_it()
    {
        var entered = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource();
        var disposed = new DisposeProbe();
        var w = new BackgroundWriter(async (r, ct) =>
        {
            entered.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { cancelled.TrySetResult(); throw; }
        }, _ => Task.CompletedTask, disposed);
        w.TryPost(Record(1));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await w.DisposeAsync();
        Assert.True(cancelled.Task.IsCompleted);
        Assert.True(disposed.Disposed);
    }

    private sealed class DisposeProbe : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
