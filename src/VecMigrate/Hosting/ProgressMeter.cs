using System.Globalization;
using System.Runtime.CompilerServices;

namespace VecMigrate.Hosting;

/// <summary>
/// Counts the records of one long operation and decides when to show progress: at most once per
/// <see cref="Interval"/>, so that a million records do not mean a million progress updates.
/// One thread at a time (the loop that moves the records) advances it. Where the total is known
/// (given, or set from the source's estimate), an update carries percent and time left.
/// </summary>
internal sealed class ProgressMeter
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider _time;
    private readonly long _started;
    private long _lastShown;
    private bool _shownOnce;
    private long _total; // 0: unknown; set once, possibly from another thread than the one advancing
    private long _before;

    /// <param name="activity">What is being done, e.g. "Copying points from 'docs' to public.docs".</param>
    /// <param name="total">How many records are expected, when the source knows; null otherwise.</param>
    /// <param name="interval">The shortest time between two updates; 250 ms by default.</param>
    /// <param name="time">The clock; the system clock by default.</param>
    public ProgressMeter(string activity, long? total = null, TimeSpan? interval = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(activity);
        Activity = activity;
        SetTotal(total);
        Interval = interval ?? DefaultInterval;
        _time = time ?? TimeProvider.System;
        _started = _time.GetTimestamp();
    }

    public string Activity { get; }

    /// <summary>How many records the operation is expected to move; null when unknown.</summary>
    public long? Total => Volatile.Read(ref _total) is var t and > 0 ? t : null;

    /// <summary>Sets the expected total (null or 0: unknown), e.g. when the source's estimate arrives.</summary>
    public void SetTotal(long? total) => Volatile.Write(ref _total, total is > 0 ? total.Value : 0);

    /// <summary>
    /// Asks <paramref name="estimate"/> for the total and sets it. The estimate only feeds the progress bar: when it
    /// fails, the total stays unknown and the read itself reports whatever is wrong.
    /// </summary>
    public async Task SetTotalFromAsync(Func<CancellationToken, Task<long?>> estimate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        try
        {
            SetTotal(await estimate(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
        }
    }

    /// <summary><paramref name="source"/>'s items, once the total has been set from <paramref name="estimate"/>.</summary>
    public async IAsyncEnumerable<T> AfterTotal<T>(Func<CancellationToken, Task<long?>> estimate, IAsyncEnumerable<T> source,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        await SetTotalFromAsync(estimate, cancellationToken).ConfigureAwait(false);
        await foreach (var item in source.WithCancellation(cancellationToken).ConfigureAwait(false)) yield return item;
    }

    /// <summary>
    /// Records done before this run (a resumed copy): they count toward the total and the percent, not toward the
    /// rate, so the time left is what this run's speed needs for the rest. Call before the first advance.
    /// </summary>
    public void StartFrom(long done)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(done);
        Count = done;
        _before = done;
    }

    public TimeSpan Interval { get; }

    public long Count { get; private set; }

    public TimeSpan Elapsed => _time.GetElapsedTime(_started);

    /// <summary>
    /// Adds <paramref name="records"/> to the count; true, with the update to show, when the
    /// interval has passed since the last one shown (the first advance always shows).
    /// </summary>
    public bool Advance(long records, out ProgressSnapshot snapshot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        Count += records;
        var now = _time.GetTimestamp();
        if (_shownOnce && _time.GetElapsedTime(_lastShown, now) < Interval)
        {
            snapshot = default;
            return false;
        }
        _shownOnce = true;
        _lastShown = now;
        snapshot = Snapshot(completed: false);
        return true;
    }

    /// <summary>The final update, which closes the progress bar.</summary>
    public ProgressSnapshot Complete() => Snapshot(completed: true);

    private ProgressSnapshot Snapshot(bool completed)
    {
        var elapsed = Elapsed;
        // A rate over the first few milliseconds says nothing; wait for a tenth of a second.
        var rate = elapsed.TotalSeconds >= 0.1 ? (Count - _before) / elapsed.TotalSeconds : 0;
        var percent = -1;
        var remaining = -1;
        var known = Total; // read once: the estimate may arrive meanwhile
        if (known is { } total)
        {
            percent = (int)Math.Clamp(Count * 100 / total, 0, 100);
            if (rate > 0 && Count < total) remaining = (int)Math.Min(int.MaxValue, Math.Ceiling((total - Count) / rate));
        }
        return new ProgressSnapshot(Activity, Count, known, rate, elapsed, percent, remaining, completed);
    }
}

/// <summary>
/// One progress update: counts, rate, and what PowerShell's progress record needs.
/// PercentComplete is 0–100 and SecondsRemaining an estimate; both are -1 when the total is unknown.
/// </summary>
internal readonly record struct ProgressSnapshot(
    string Activity,
    long Count,
    long? Total,
    double RecordsPerSecond,
    TimeSpan Elapsed,
    int PercentComplete,
    int SecondsRemaining,
    bool Completed)
{
    /// <summary>"1,200 of 10,000 records, 850 records/s" (invariant digits, for job logs too).</summary>
    public string Status
    {
        get
        {
            var culture = CultureInfo.InvariantCulture;
            var count = Total is { } total
                ? string.Format(culture, "{0:N0} of {1:N0} records", Count, total)
                : string.Format(culture, "{0:N0} records", Count);
            return RecordsPerSecond > 0
                ? string.Format(culture, "{0}, {1:N0} records/s", count, RecordsPerSecond)
                : count;
        }
    }
}
