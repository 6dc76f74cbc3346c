using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

public class ProgressMeterTests
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
}
