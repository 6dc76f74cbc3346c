using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

/// <summary>
/// The bridge between engine work on the thread pool and the pipeline thread. The test thread
/// plays the pipeline thread; actions stand in for WriteObject and friends.
/// </summary>
public class PipelinePumpTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Output_runs_on_the_pumping_thread_in_the_order_written()
    {
        using var pump = new PipelinePump(capacity: 4);
        var pumpingThread = Environment.CurrentManagedThreadId;
        var seen = new List<(int Item, int Thread)>();
        var work = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                var item = i;
                await pump.PostAsync(() => seen.Add((item, Environment.CurrentManagedThreadId)), default);
            }
        });

        pump.Run(work, () => { });

        Assert.Equal(Enumerable.Range(0, 200), seen.Select(s => s.Item));
        Assert.All(seen, s => Assert.Equal(pumpingThread, s.Thread));
        Assert.True(work.IsCompletedSuccessfully);
    }

    [Fact]
    public void A_fast_producer_gets_at_most_Capacity_items_ahead_of_a_slow_pipeline()
    {
        const int capacity = 4;
        using var pump = new PipelinePump(capacity);
        var posted = 0;
        var consumed = 0;
        var mostAhead = 0;
        var work = Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                await pump.PostAsync(() =>
                {
                    mostAhead = Math.Max(mostAhead, Volatile.Read(ref posted) - consumed);
                    Thread.Sleep(2); // a slow downstream command
                    consumed++;
                }, default);
                Interlocked.Increment(ref posted);
            }
        });

        pump.Run(work, () => { });

        Assert.Equal(60, consumed);
        // Never more than full. (Full itself is not asserted: on a loaded machine the producer may not be
        // scheduled often enough to fill the queue while the slow consumer drains it.)
        Assert.InRange(mostAhead, 1, capacity);
    }

    [Fact]
    public void A_failure_of_the_work_comes_out_after_everything_it_wrote()
    {
        using var pump = new PipelinePump(capacity: 2);
        var seen = new List<int>();
        var work = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var item = i;
                await pump.PostAsync(() => { Thread.Sleep(1); seen.Add(item); }, default);
            }
            throw new InvalidOperationException("source failed");
        });

        pump.Run(work, () => { });

        Assert.Equal(Enumerable.Range(0, 10), seen);
        Assert.Equal("source failed", Assert.IsType<InvalidOperationException>(work.Exception!.InnerException).Message);
    }

    [Fact]
    public void An_action_that_throws_cancels_the_work_waits_for_it_and_is_rethrown()
    {
        using var pump = new PipelinePump(capacity: 2);
        using var stop = new CancellationTokenSource();
        var seen = new List<int>();
        var work = Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                var item = i;
                await pump.PostAsync(() =>
                {
                    if (item == 3) throw new StoppedDownstream(); // e.g. Select-Object -First 3
                    seen.Add(item);
                }, stop.Token);
            }
        });

        Assert.Throws<StoppedDownstream>(() => pump.Run(work, stop.Cancel));

        Assert.True(stop.IsCancellationRequested);
        Assert.True(work.IsCompleted, "The work must not outlive the command.");
        Assert.Equal([0, 1, 2], seen);
        Assert.True(pump.IsClosed);
    }

    [Fact]
    public void When_an_action_throws_the_work_is_cancelled_before_the_pump_refuses_its_posts()
    {
        // A source whose post is refused must already see its token cancelled: it tells a stopped pipeline
        // (Ctrl+C, Select-Object -First, -ErrorAction Stop) from its own failure by that token.
        using var pump = new PipelinePump(capacity: 64);
        using var stop = new CancellationTokenSource();
        bool? closedWhenCancelled = null;
        bool? cancelledWhenRefused = null;
        var work = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; ; i++)
                {
                    var item = i;
                    await pump.PostAsync(() => { if (item == 3) throw new StoppedDownstream(); }, CancellationToken.None);
                }
            }
            catch (OperationCanceledException)
            {
                cancelledWhenRefused = stop.IsCancellationRequested;
            }
        });

        Assert.Throws<StoppedDownstream>(() => pump.Run(work, () =>
        {
            closedWhenCancelled = pump.IsClosed;
            stop.Cancel();
        }));

        Assert.False(closedWhenCancelled, "The pump closed before the work was cancelled.");
        Assert.True(cancelledWhenRefused, "A post was refused before the work was cancelled.");
    }

    [Fact]
    public async Task A_producer_waiting_for_room_is_released_when_the_pump_closes_even_without_cancellation()
    {
        using var pump = new PipelinePump(capacity: 1);
        var work = Task.Run(async () =>
        {
            while (true) await pump.PostAsync(() => throw new StoppedDownstream(), CancellationToken.None);
        });

        var run = Task.Run(() => pump.Run(work, cancel: () => { }));

        await Assert.ThrowsAsync<StoppedDownstream>(() => run.WaitAsync(Patience));
        Assert.True(work.IsCanceled, "The producer should have been released with OperationCanceledException.");
    }

    [Fact]
    public void Messages_never_wait_and_what_overflows_is_counted_and_reported()
    {
        long reported = 0;
        using var pump = new PipelinePump(capacity: 1, messageCapacity: 3, reportDropped: n => reported += n);
        var shown = new List<int>();

        // Nobody pumps yet: a blocking lane would hang here.
        var accepted = Enumerable.Range(0, 5).Select(i => pump.TryPostMessage(() => shown.Add(i))).ToList();
        pump.Run(Task.CompletedTask, () => { });

        Assert.Equal([true, true, true, false, false], accepted);
        Assert.Equal([0, 1, 2], shown);
        Assert.Equal(2, reported);
    }

    [Fact]
    public void Messages_written_before_an_object_are_shown_before_it()
    {
        using var pump = new PipelinePump();
        var shown = new List<string>();
        var work = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                var n = i;
                pump.TryPostMessage(() => shown.Add($"verbose {n}"));
                await pump.PostAsync(() => shown.Add($"object {n}"), default);
            }
        });

        pump.Run(work, () => { });

        for (var i = 0; i < 20; i++)
        {
            Assert.True(shown.IndexOf($"verbose {i}") < shown.IndexOf($"object {i}"));
        }
    }

    [Fact]
    public void Only_the_newest_progress_update_is_shown()
    {
        using var pump = new PipelinePump();
        var shown = new List<int>();
        for (var i = 1; i <= 3; i++)
        {
            var n = i;
            pump.PostProgress(() => shown.Add(n));
        }

        pump.Run(Task.CompletedTask, () => { });

        Assert.Equal([3], shown);
    }

    [Fact]
    public async Task InvokeAsync_runs_on_the_pumping_thread_and_hands_back_the_result()
    {
        using var pump = new PipelinePump();
        var pumpingThread = Environment.CurrentManagedThreadId;
        var work = Task.Run(async () => await pump.InvokeAsync(() => Environment.CurrentManagedThreadId, default));

        pump.Run(work, () => { });

        Assert.Equal(pumpingThread, await work);
    }

    [Fact]
    public async Task Posting_to_a_closed_pump_fails_and_messages_are_dropped()
    {
        using var pump = new PipelinePump();
        pump.Close();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pump.PostAsync(() => { }, default));
        Assert.False(pump.TryPostMessage(() => { }));
    }

    private sealed class StoppedDownstream : Exception;
}
