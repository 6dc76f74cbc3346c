using System.Diagnostics;
using VecMigrate.Hosting;
using Xunit.Abstractions;

namespace VecMigrate.Module.Tests.Hosting;

public class ProgressMeterTests(ITestOutputHelper output)
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void Updates_are_shown_at_most_once_per_interval_and_the_first_at_once()
    {
        var clock = new ManualClock();
        var meter = new ProgressMeter("Copying", total: null, time: clock);

        Assert.True(meter.Advance(1, out _));
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(meter.Advance(1, out _));
        clock.Advance(TimeSpan.FromMilliseconds(149));
        Assert.False(meter.Advance(1, out _));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(meter.Advance(1, out var shown));
        Assert.Equal(4, shown.Count);
    }

    [Fact]
    public void An_update_carries_rate_percent_and_time_left()
    {
        var clock = new ManualClock();
        var meter = new ProgressMeter("Copying", total: 10_000, time: clock);
        meter.Advance(0, out _);
        clock.Advance(TimeSpan.FromSeconds(12));

        Assert.True(meter.Advance(1_200, out var s));

        Assert.Equal(100, s.RecordsPerSecond, precision: 6);
        Assert.Equal(12, s.PercentComplete);
        Assert.Equal(88, s.SecondsRemaining);
        Assert.False(s.Completed);
        Assert.Equal("1,200 of 10,000 records, 100 records/s", s.Status);
    }

    [Fact]
    public void Without_a_total_percent_and_time_left_are_unknown()
    {
        var clock = new ManualClock();
        var meter = new ProgressMeter("Reading", time: clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        meter.Advance(50, out var s);

        Assert.Equal((-1, -1), (s.PercentComplete, s.SecondsRemaining));
        Assert.Equal("50 records, 50 records/s", s.Status);
    }

    [Fact]
    public void Complete_closes_the_activity_with_the_final_count()
    {
        var meter = new ProgressMeter("Copying", total: 3, time: new ManualClock());
        meter.Advance(3, out _);

        var done = meter.Complete();

        Assert.True(done.Completed);
        Assert.Equal(3, done.Count);
        Assert.Equal(100, done.PercentComplete);
    }

    [Fact]
    public void A_total_that_arrives_later_gives_percent_and_time_left_from_then_on()
    {
        var clock = new ManualClock();
        var meter = new ProgressMeter("Reading", time: clock);
        clock.Advance(TimeSpan.FromSeconds(2));
        meter.Advance(400, out var before);
        Assert.Equal((-1, -1), (before.PercentComplete, before.SecondsRemaining));

        meter.SetTotal(2_000);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(meter.Advance(400, out var after));

        Assert.Equal(40, after.PercentComplete);
        Assert.Equal(6, after.SecondsRemaining); // 1,200 left at 200 records/s
        Assert.Equal("800 of 2,000 records, 200 records/s", after.Status);
    }

    [Fact]
    public void Records_of_earlier_runs_count_toward_the_percent_but_not_the_rate()
    {
        var clock = new ManualClock();
        var meter = new ProgressMeter("Copying", total: 10_000, time: clock);
        meter.StartFrom(6_000);
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.True(meter.Advance(1_000, out var s));

        Assert.Equal(100, s.RecordsPerSecond, precision: 6); // this run: 1,000 in 10 s
        Assert.Equal(70, s.PercentComplete);
        Assert.Equal(30, s.SecondsRemaining); // 3,000 left at 100 records/s
    }

    [Fact]
    public async Task A_failing_estimate_leaves_the_total_unknown_and_a_good_one_sets_it_before_the_first_item()
    {
        var meter = new ProgressMeter("Reading", time: new ManualClock());
        await meter.SetTotalFromAsync(_ => throw new InvalidOperationException("no stats"), CancellationToken.None);
        Assert.Null(meter.Total);

        long? seenAtFirstItem = -1;
        async IAsyncEnumerable<int> Items()
        {
            seenAtFirstItem = meter.Total;
            yield return 1;
            await Task.Yield();
        }
        var items = new List<int>();
        await foreach (var i in meter.AfterTotal(_ => Task.FromResult<long?>(42), Items())) items.Add(i);

        Assert.Equal([1], items);
        Assert.Equal(42, seenAtFirstItem);
        await meter.SetTotalFromAsync(_ => Task.FromResult<long?>(null), CancellationToken.None);
        Assert.Null(meter.Total);
    }

    [Fact]
    public void Advancing_costs_tens_of_nanoseconds_a_call()
    {
        // What progress costs the loop that moves the records: one Advance per record (the worst case: WriteAll
        // advances once per bunch of up to 32, Copy-VectorData once per batch), a snapshot four times a second.
        var meter = new ProgressMeter("Measuring", total: long.MaxValue);
        const int n = 5_000_000;
        for (var i = 0; i < 100_000; i++) meter.Advance(1, out _); // warm up (tiered JIT)
        var best = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < n; i++) meter.Advance(1, out _);
            best = Math.Min(best, watch.Elapsed.TotalNanoseconds / n);
        }
        var clockWatch = Stopwatch.StartNew();
        long sink = 0;
        for (var i = 0; i < n; i++) sink += TimeProvider.System.GetTimestamp();
        var clock = clockWatch.Elapsed.TotalNanoseconds / n;
        output.WriteLine($"ProgressMeter.Advance: {best:F1} ns a call (best of 3 x {n:N0}); of which reading the clock: {clock:F1} ns ({sink % 2})");
        Assert.True(best < 1_000, $"{best:F1} ns a call");
    }
}
