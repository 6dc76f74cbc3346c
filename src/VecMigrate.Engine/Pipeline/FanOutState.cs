using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Where a fan-out copy stands (one reader, several writer lanes: <see cref="PartitionedMigration"/>), as one lane's
/// checkpoint keeps it. Every record the reader reads has an ordinal: its place in the source's order, counted from
/// the first record (a resumed read counts on from where it starts, so ordinals never change between runs). A state
/// says: every record before ordinal <see cref="Low"/> is in the target (<see cref="After"/> is the position of the
/// last of them, to read after), and so is every record in the <see cref="Done"/> ranges above it.
/// </summary>
/// <remarks>
/// <para>Each lane's checkpoint holds such a state, written with the lane's batches (in the same transaction for a
/// Postgres target), so a state is only ever a true statement about what the target holds; the states of all lanes
/// together are the whole truth. Resuming reads after the highest <see cref="Low"/> and skips the records in any lane's
/// <see cref="Done"/> ranges: nothing is written twice and nothing is left out.</para>
/// <para>Stored as JSON: <c>{"fanOut":1,"low":1200,"after":"1199","done":[[1400,1600],[1800,1950]]}</c>.</para>
/// </remarks>
internal sealed record FanOutState(long Low, string? After, IReadOnlyList<(long Start, long End)> Done)
{
    public static readonly FanOutState Beginning = new(0, null, []);

    /// <summary>The part of a state that is the same for every record of a batch: all but the batch's own range.</summary>
    public static (string Head, string Ranges) Prefix(long low, string? after, IEnumerable<(long Start, long End)> done)
    {
        var head = new StringBuilder("{\"fanOut\":1,\"low\":").Append(low.ToString(CultureInfo.InvariantCulture))
            .Append(",\"after\":").Append(after is null ? "null" : JsonSerializer.Serialize(after)).Append(",\"done\":[").ToString();
        var ranges = string.Join(",", done.Select(d => string.Create(CultureInfo.InvariantCulture, $"[{d.Start},{d.End}]")));
        return (head, ranges);
    }

    /// <summary>A state: the prefix's, plus the records from <paramref name="start"/> to before <paramref name="end"/> when given.</summary>
    public static string Format((string Head, string Ranges) prefix, long start = 0, long end = 0)
    {
        var sb = new StringBuilder(prefix.Head.Length + prefix.Ranges.Length + 32).Append(prefix.Head).Append(prefix.Ranges);
        if (end > start)
        {
            if (prefix.Ranges.Length > 0) sb.Append(',');
            sb.Append('[').Append(start.ToString(CultureInfo.InvariantCulture)).Append(',').Append(end.ToString(CultureInfo.InvariantCulture)).Append(']');
        }
        return sb.Append("]}").ToString();
    }

    /// <summary>A lane's stored state; <see cref="Beginning"/> for a lane that has committed nothing.</summary>
    public static FanOutState Parse(string? text, string checkpoint)
    {
        if (text is null) return Beginning;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var r = doc.RootElement;
            if (!r.TryGetProperty("fanOut", out var v) || v.GetInt32() != 1) throw new FormatException("it is not a fan-out lane's state");
            var after = r.GetProperty("after");
            var done = r.GetProperty("done").EnumerateArray().Select(d => (d[0].GetInt64(), d[1].GetInt64())).ToList();
            return new FanOutState(r.GetProperty("low").GetInt64(), after.ValueKind == JsonValueKind.Null ? null : after.GetString(), done);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointUnreadable",
                $"The position of checkpoint '{checkpoint}' is not the state of a fan-out lane ({ex.Message}); remove the checkpoint to start over.", checkpoint, ex);
        }
    }

    /// <summary>
    /// Where a resumed read starts: after the highest low of all lanes, with every range any lane holds above it,
    /// sorted and merged, as the ranges to skip.
    /// </summary>
    public static FanOutState Combine(IEnumerable<FanOutState> lanes)
    {
        var all = lanes.ToList();
        var start = all.Count == 0 ? Beginning : all.MaxBy(s => s.Low)!;
        var ranges = Merge(all.SelectMany(s => s.Done).Where(d => d.End > start.Low).Select(d => (Math.Max(d.Start, start.Low), d.End)));
        return new FanOutState(start.Low, start.After, ranges);
    }

    /// <summary>Ranges sorted by start, overlapping and touching ones made one.</summary>
    public static List<(long Start, long End)> Merge(IEnumerable<(long Start, long End)> ranges)
    {
        var merged = new List<(long Start, long End)>();
        foreach (var (s, e) in ranges.Where(r => r.End > r.Start).OrderBy(r => r.Start))
        {
            if (merged.Count > 0 && s <= merged[^1].End) merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, e));
            else merged.Add((s, e));
        }
        return merged;
    }
}

/// <summary>
/// The reader's and lanes' shared account of a fan-out run: the source's order cut into units (a batch a lane
/// writes, or a run of records skipped because the target already holds them), the lowest ordinal below which every
/// unit is done, and the ranges done above it. Thread-safe; lanes take a prefix of the state for each batch.
/// </summary>
internal sealed class FanOutLedger
{
    private readonly object _gate = new();
    private readonly LinkedList<Unit> _units = new();
    private List<(long Start, long End)> _done;
    private long _low;
    private string? _after;
    private (string Head, string Ranges)? _prefix;

    private sealed class Unit(long start, long end, string? last)
    {
        public long Start { get; } = start;
        public long End { get; } = end;
        public string? Last { get; } = last;
        public bool Done { get; set; }
    }

    public FanOutLedger(FanOutState start)
    {
        _low = start.Low;
        _after = start.After;
        _done = FanOutState.Merge(start.Done);
    }

    /// <summary>Every record before this ordinal is in the target.</summary>
    public long Low
    {
        get { lock (_gate) return _low; }
    }

    /// <summary>
    /// Adds the next unit of the source's order: records <paramref name="start"/> to before <paramref name="end"/>, the
    /// last at <paramref name="last"/>. A skipped run is done at once; a batch when <see cref="Acknowledge"/> says so.
    /// </summary>
    public object Add(long start, long end, string? last, bool done)
    {
        var unit = new Unit(start, end, last);
        lock (_gate)
        {
            _units.AddLast(unit);
            if (done) Finish(unit);
        }
        return unit;
    }

    /// <summary>The unit's every record is in the target (committed, acknowledged, or refused and reported).</summary>
    public void Acknowledge(object unit)
    {
        lock (_gate) Finish((Unit)unit);
    }

    private void Finish(Unit unit)
    {
        unit.Done = true;
        _done = FanOutState.Merge(_done.Append((unit.Start, unit.End)));
        while (_units.First is { Value.Done: true } first)
        {
            _low = first.Value.End;
            _after = first.Value.Last;
            _units.RemoveFirst();
        }
        _done = _done.Where(d => d.End > _low).Select(d => (Math.Max(d.Start, _low), d.End)).ToList();
        _prefix = null;
    }

    /// <summary>The state as it stands now (for every record of the next batch, with the batch's own range added).</summary>
    public (string Head, string Ranges) Prefix()
    {
        lock (_gate) return _prefix ??= FanOutState.Prefix(_low, _after, _done);
    }
}
