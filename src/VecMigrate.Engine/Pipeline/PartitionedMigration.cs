using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VecMigrate.Engine.Pipeline;

/// <summary>How a <see cref="PartitionedMigration"/> runs.</summary>
public sealed class PartitionedMigrationOptions
{
    /// <summary>How long a partition's lease lasts without a committed batch renewing it.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMinutes(5);

    /// <summary>At most this many lanes in one process.</summary>
    public const int MaxLanes = 64;

    /// <summary>The whole migration's checkpoint name; each partition's is this with <c>#i/N</c>.</summary>
    public required string Checkpoint { get; init; }

    /// <summary>Continue the checkpoint when it exists (as <see cref="MigrationOptions.Resume"/>).</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Lanes in this process: each takes a free partition, copies it, and takes the next until none is left. A new
    /// checkpoint is split into this many partitions unless <see cref="Partition"/> says otherwise.
    /// </summary>
    public int Lanes { get; init; } = 1;

    /// <summary>Worker mode: this partition only (a new checkpoint is split into its count); null takes any free one.</summary>
    public PartitionSelector? Partition { get; init; }

    /// <summary>A partition's lease: another worker may take it over once this long has passed without a commit.</summary>
    public TimeSpan Lease { get; init; } = DefaultLease;

    /// <summary>Who holds this process's leases (shown by Get-VecMigrateCheckpoint).</summary>
    public string Holder { get; init; } = PartitionNames.NewHolder();

    public int MaxReconnects { get; init; } = 5;

    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Stop taking partitions and reading once this much time has passed (each lane commits what it read).</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>As <see cref="MigrationOptions.OnRejected"/>; lanes call it one at a time.</summary>
    public Func<RecordRejectedException, CancellationToken, ValueTask>? OnRejected { get; init; }

    /// <summary>
    /// Work that waits for all the data (building indexes), run once by the worker that completes the last partition,
    /// with the last of its sinks that wrote records (null when it wrote none in this run).
    /// </summary>
    public Func<IRecordSink?, CancellationToken, Task>? Finish { get; init; }

    /// <summary>
    /// For a source that cannot be split (fan-out: one reader, the lanes behind it), the records the reader gives a lane
    /// at a time; each lane commits at least once a batch (see <see cref="PartitionedMigration"/>'s fan-out).
    /// </summary>
    public int FanOutBatchSize { get; init; } = DefaultFanOutBatchSize;

    /// <summary>Records per fan-out batch unless told: a few MB of 1,024-dimension vectors per lane in memory.</summary>
    public const int DefaultFanOutBatchSize = 1000;

    /// <summary>The counts of all lanes together after each acknowledged batch; lanes call it one at a time.</summary>
    public Action<MigrationProgress>? Progress { get; init; }
}

/// <summary>
/// A migration split into partitions that lanes in this process, or workers anywhere (runbook jobs, machines,
/// ForEach-Object -Parallel), copy side by side: the split is fixed when the checkpoint is created and stored with
/// it, each partition is an ordinary resumable <see cref="Migration"/> under its own checkpoint (<c>big#3/8</c>), and a
/// lease decides who writes it.
/// </summary>
/// <remarks>
/// <para>Exactly once holds per partition as it does for one run: a Postgres target commits each batch with its
/// partition's checkpoint position in the same transaction. The lease is checked and renewed in that transaction
/// too, so a worker that stalled past its lease and lost the partition to another cannot commit into it any more:
/// its batch rolls back and it moves on.</para>
/// <para>A worker that dies leaves its partition to the next one that runs once the lease has run out
/// (<see cref="PartitionedMigrationOptions.Lease"/>); one that stops on its own (time limit, error) gives it up at
/// once.</para>
/// </remarks>
public static partial class PartitionedMigration
{
    /// <summary>The error id of a batch refused because its lane no longer held the partition's lease.</summary>
    public const string LeaseLostId = "PartitionLeaseLost";

    /// <summary>
    /// Runs the split migration. <paramref name="openSink"/> makes one sink per partition run (its own connection);
    /// the runner disposes them.
    /// </summary>
    public static Task<MigrationSummary> RunAsync(MigrationSource source, Func<IRecordSink> openSink, IPartitionLedger ledger,
        PartitionedMigrationOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(openSink);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Lanes is < 1 or > PartitionedMigrationOptions.MaxLanes)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionLanesInvalid",
                $"Lanes must be between 1 and {PartitionedMigrationOptions.MaxLanes} (got {options.Lanes}).");
        }
        if (options.Lease <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "The lease must be positive.");
        return new Run(source, openSink, ledger, options, logger ?? NullLogger.Instance).ExecuteAsync(cancellationToken);
    }

    /// <summary>Whether <paramref name="ex"/> (or what it wraps) is a batch refused for a lost lease.</summary>
    public static bool IsLeaseLost(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is VecMigrateException { ErrorId: LeaseLostId }) return true;
        }
        return false;
    }

    private sealed partial class Run(MigrationSource source, Func<IRecordSink> openSink, IPartitionLedger ledger, PartitionedMigrationOptions options, ILogger logger)
    {
        private readonly Stopwatch _clock = new();
        private readonly object _gate = new();
        private readonly SemaphoreSlim _rejectGate = new(1, 1);
        private readonly Dictionary<int, MigrationProgress> _progress = [];
        private readonly List<MigrationSummary> _parts = [];
        private string _name = "";
        private string _target = "";
        private long _before;
        private IRecordSink? _finisher;

        public async Task<MigrationSummary> ExecuteAsync(CancellationToken ct)
        {
            _clock.Start();
            _name = CheckpointNames.Check(options.Checkpoint);
            // A source that cannot be split is read in one lane and written in several (FanOutAsync): for lanes in this
            // process only, since one reader feeds them all, and only when it can be read again from a position.
            var fanOut = source.Split is null || source.Narrow is null;
            if (fanOut && (options.Partition is not null || !source.CanReread))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationSourceCannotSplit",
                    $"{source.Description} cannot be split into partitions: {(source.CannotSplitBecause ?? "it has no way to read a part of it").TrimEnd('.')}. " +
                    (source.CanReread
                        ? "Workers given -Partition each read their own part; copy it with -Parallel instead (one reader feeds the lanes) or without either. "
                        : "Its records can be read only once, so a copy in lanes could not resume; copy it without -Parallel or -Partition. ") +
                    "Nothing was read or written.", source.Description);
            }
            await using (var probe = openSink())
            {
                _target = probe.Target;
                if (!probe.AttachLease(options.Holder, options.Lease) && !(probe.Idempotent && ledger.CheckpointStoreFor(options.Holder) is not null))
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationTargetCannotSplit",
                        $"{_target} neither fences a partition's batches with its lease nor upserts by id, so two workers could write the same partition twice; " +
                        "copy into it without -Parallel or -Partition.", _target);
                }
            }

            if (fanOut) return await FanOutAsync(ct).ConfigureAwait(false);

            var whole = await OpenAsync(ct).ConfigureAwait(false);
            _before = whole.Records;
            var count = whole.Partitions.Count;
            if (whole.Completed)
            {
                MigrationLog.AlreadyComplete(logger, _name, whole.Records, whole.Target);
                return Summary(whole, alreadyComplete: true, completed: true);
            }

            List<int> wanted;
            if (options.Partition is { } one)
            {
                var state = whole.Partitions[one.Index - 1];
                if (state.Completed)
                {
                    // Its part is done; the whole may still wait for being marked complete (its last worker died before).
                    await CompleteWholeAsync(ct).ConfigureAwait(false);
                    whole = await ReloadAsync(ct).ConfigureAwait(false);
                    return Summary(whole, alreadyComplete: true, completed: true);
                }
                if (!await ledger.TryTakeAsync(_name, one.Index, options.Holder, options.Lease, ct).ConfigureAwait(false))
                {
                    var now = (await ReloadAsync(ct).ConfigureAwait(false)).Partitions[one.Index - 1];
                    if (now.Completed) return Summary(await ReloadAsync(ct).ConfigureAwait(false), alreadyComplete: true, completed: true);
                    throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionHeld",
                        $"Partition {one} of checkpoint '{_name}' ({ledger.Location}) is being written by {now.Holder}, whose lease lasts until {now.LeaseUntil:u}. " +
                        "Run this worker again after that to take it over if that worker has stopped. Nothing was read or written.", now.Name);
                }
                wanted = [one.Index];
            }
            else
            {
                wanted = whole.Partitions.Where(p => !p.Completed).Select(p => p.Index).ToList();
            }
            MigrationLog.PartitionsStarting(logger, _name, count, wanted.Count, Math.Min(options.Lanes, wanted.Count), options.Holder);

            var queue = new ConcurrentQueue<int>(wanted);
            var taken = options.Partition is not null; // a worker's one partition is taken above
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Exception? failure = null;
            var lanes = Enumerable.Range(0, Math.Min(options.Lanes, wanted.Count)).Select(_ => Task.Run(async () =>
            {
                try
                {
                    while (!stop.IsCancellationRequested && !TimeUp() && queue.TryDequeue(out var index))
                    {
                        try
                        {
                            if (!taken && !await ledger.TryTakeAsync(_name, index, options.Holder, options.Lease, stop.Token).ConfigureAwait(false))
                            {
                                continue; // complete meanwhile, or another worker holds it: go on with the next
                            }
                        }
                        catch
                        {
                            // Stopped while taking it (Ctrl+C): the take may have committed all the same.
                            await ReleaseQuietlyAsync(index).ConfigureAwait(false);
                            throw;
                        }
                        await RunPartitionAsync(whole.Partitions[index - 1], stop.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    lock (_gate) failure ??= ex;
                    stop.CancelQuietly(); // the other lanes commit what they have and stop
                }
            }, CancellationToken.None)).ToList();
            try
            {
                await Task.WhenAll(lanes).ConfigureAwait(false);
                if (failure is not null)
                {
                    // The caller's Ctrl+C is what it is; a lane's own failure is the run's.
                    ct.ThrowIfCancellationRequested();
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
                }
                if (await CompleteWholeAsync(ct).ConfigureAwait(false) && options.Finish is { } finish)
                {
                    // Indexes are planned from the records a sink wrote: a run that completed the whole without writing
                    // (its last partition was empty) says so instead of guessing.
                    if (_finisher is null) MigrationLog.NothingToFinishWith(logger, _name);
                    await finish(_finisher, ct).ConfigureAwait(false);
                }
            }
            finally
            {
                if (_finisher is not null) await _finisher.DisposeAsync().ConfigureAwait(false);
            }
            _clock.Stop();
            whole = await ReloadAsync(ct).ConfigureAwait(false);
            var done = options.Partition is { } p ? whole.Partitions[p.Index - 1].Completed : whole.Completed;
            var summary = Summary(whole, alreadyComplete: false, completed: done);
            MigrationLog.Finished(logger, summary.RecordsRead, summary.RecordsWritten, summary.RecordsRejected, summary.TotalRecords,
                summary.Reconnects, summary.Elapsed.TotalSeconds);
            return summary;
        }

        private bool TimeUp() => options.TimeLimit is { } limit && _clock.Elapsed >= limit;

        /// <summary>Finds the split (making it when there is none) and refuses one that belongs to another migration or split.</summary>
        private async Task<PartitionedCheckpoint> OpenAsync(CancellationToken ct, bool resume = false)
        {
            var found = await ledger.GetAsync(_name, ct).ConfigureAwait(false);
            if (found is not null)
            {
                Check(found);
                if (!options.Resume && !resume)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointExists",
                        $"Checkpoint '{_name}' ({ledger.Location}) already records {found.Records} records in {found.Partitions.Count} partitions written to {found.Target}{(found.Completed ? " and is complete" : "")}. " +
                        "Resume it, or remove it to start over. Nothing was read or written.", _name);
                }
                return found;
            }
            var count = options.Partition?.Count ?? options.Lanes;
            List<(string, string)> parts;
            if (source.Split is null)
            {
                // Fan-out: a partition per lane, each a checkpoint for what that lane's batches committed.
                parts = Enumerable.Range(1, count).Select(i => (FanOutBounds(i), FanOutDescription(i, count))).ToList();
            }
            else
            {
                var bounds = await source.Split!(count, ct).ConfigureAwait(false);
                if (bounds.Count != count) throw new InvalidOperationException($"The source split into {bounds.Count} parts, not {count}.");
                parts = bounds.Select(b => (b, source.Narrow!(b).Description)).ToList();
            }
            var stored = await ledger.CreateAsync(_name, source.Description, _target, parts, ct).ConfigureAwait(false);
            Check(stored); // another worker may have made it first, with its own count
            return stored;
        }

        private void Check(PartitionedCheckpoint found)
        {
            if (!string.Equals(found.Source, source.Description, StringComparison.Ordinal) || !string.Equals(found.Target, _target, StringComparison.Ordinal))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointMismatch",
                    $"Checkpoint '{_name}' ({ledger.Location}) was recorded for {found.Source} → {found.Target}, not {source.Description} → {_target}. " +
                    "Use another checkpoint name, or remove this one to start over. Nothing was read or written.", _name);
            }
            if (options.Partition is { } one && one.Count != found.Partitions.Count)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionSplitMismatch",
                    $"Checkpoint '{_name}' ({ledger.Location}) is split into {found.Partitions.Count} partitions, so partition {one} does not exist in it; " +
                    $"ask for one of 1/{found.Partitions.Count} to {found.Partitions.Count}/{found.Partitions.Count}. The split is fixed when the checkpoint is created. Nothing was read or written.", _name);
            }
        }

        private async Task<PartitionedCheckpoint> ReloadAsync(CancellationToken ct) =>
            await ledger.GetAsync(_name, ct).ConfigureAwait(false)
            ?? throw new VecMigrateException(FailureKind.NotFound, "MigrationCheckpointRemoved",
                $"Checkpoint '{_name}' ({ledger.Location}) was removed while the migration ran.", _name);

        private async Task<bool> CompleteWholeAsync(CancellationToken ct)
        {
            if (!await ledger.TryCompleteAsync(_name, ct).ConfigureAwait(false)) return false;
            MigrationLog.PartitionsCompleted(logger, _name);
            return true;
        }

        /// <summary>Copies one partition under its own checkpoint, on its own sink; gives its lease up when it stops short.</summary>
        private async Task RunPartitionAsync(PartitionState part, CancellationToken ct)
        {
            IRecordSink? sink = null;
            ICheckpointStore? store = null;
            var keep = false;
            try
            {
                var remaining = options.TimeLimit is { } limit ? limit - _clock.Elapsed : (TimeSpan?)null;
                MigrationSource narrowed;
                try
                {
                    if (remaining is { } r && r <= TimeSpan.Zero) throw new OperationCanceledException("The time limit passed.");
                    sink = openSink();
                    // A sink that fences its batches with the lease (Postgres) keeps the checkpoint itself; one that
                    // upserts by id may write a batch twice harmlessly, and the ledger keeps its checkpoint under the lease.
                    store = sink.AttachLease(options.Holder, options.Lease) ? null
                        : sink.Idempotent && ledger.CheckpointStoreFor(options.Holder) is { } kept ? kept
                        : throw new InvalidOperationException($"{sink.Target} neither fences batches with a lease nor upserts by id; it cannot be written in partitions.");
                    narrowed = source.Narrow!(part.Bounds);
                }
                catch (Exception ex)
                {
                    if (sink is not null) await sink.DisposeAsync().ConfigureAwait(false);
                    sink = null;
                    await ReleaseQuietlyAsync(part.Index).ConfigureAwait(false);
                    if (ex is OperationCanceledException && !ct.IsCancellationRequested) return; // out of time: the next run takes it
                    throw;
                }
                MigrationSummary summary;
                try
                {
                    summary = await Migration.RunAsync(narrowed, sink, new MigrationOptions
                    {
                        Checkpoint = part.Name,
                        Resume = true,
                        CheckpointStore = store,
                        MaxReconnects = options.MaxReconnects,
                        ReconnectDelay = options.ReconnectDelay,
                        TimeLimit = remaining,
                        OnRejected = options.OnRejected is { } onRejected ? async (e, token) =>
                        {
                            await _rejectGate.WaitAsync(token).ConfigureAwait(false);
                            try { await onRejected(e, token).ConfigureAwait(false); }
                            finally { _rejectGate.Release(); }
                        } : null,
                        Progress = p => Report(part.Index, p),
                    }, logger, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsLeaseLost(ex))
                {
                    // Another worker took the partition over after this lane's lease ran out: its batch was rolled back.
                    MigrationLog.LeaseLost(logger, part.Name, options.Holder);
                    return;
                }
                catch
                {
                    // The sink first: a batch stopped between its lease check and its commit holds the partition's row
                    // until it is rolled back, and giving the lease up would wait for that.
                    var open = sink;
                    sink = null;
                    try { await open.DisposeAsync().ConfigureAwait(false); } catch (Exception e) when (e is not OutOfMemoryException) { }
                    await ReleaseQuietlyAsync(part.Index).ConfigureAwait(false);
                    throw;
                }
                lock (_gate)
                {
                    _parts.Add(summary);
                    _progress[part.Index] = new MigrationProgress(summary.RecordsRead, summary.RecordsWritten, summary.RecordsRejected, 0, summary.Elapsed);
                    if (summary.RecordsWritten > 0)
                    {
                        // The last sink that wrote is kept for the work that waits for all the data (it knows the table's plan).
                        (sink, _finisher) = (_finisher!, sink);
                        keep = sink is null;
                    }
                }
                if (!summary.Completed) await ReleaseQuietlyAsync(part.Index).ConfigureAwait(false);
            }
            finally
            {
                if (!keep && sink is not null) await sink.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async Task ReleaseQuietlyAsync(int index)
        {
            try
            {
                await ledger.ReleaseAsync(_name, index, options.Holder, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The lease runs out on its own; the next worker waits for that instead.
            }
        }

        private void Report(int partition, MigrationProgress p)
        {
            if (options.Progress is not { } progress) return;
            lock (_gate)
            {
                _progress[partition] = p;
                long read = 0, written = 0, rejected = 0;
                foreach (var q in _progress.Values)
                {
                    read += q.RecordsRead;
                    written += q.RecordsWritten;
                    rejected += q.RecordsRejected;
                }
                progress(new MigrationProgress(read, written, rejected, _before + written, _clock.Elapsed));
            }
        }

        private MigrationSummary Summary(PartitionedCheckpoint whole, bool alreadyComplete, bool completed)
        {
            lock (_gate)
            {
                var parts = _parts.ToList();
                var written = parts.Sum(p => p.RecordsWritten);
                return new MigrationSummary(source.Description, _target, _name, null, whole.Records - written,
                    parts.Sum(p => p.RecordsRead), written, parts.Sum(p => p.RecordsRejected), parts.Sum(p => p.RecordsReread),
                    parts.Sum(p => p.Reconnects), completed, alreadyComplete, _clock.Elapsed)
                {
                    Lanes = options.Lanes,
                    PartitionCount = whole.Partitions.Count,
                    PartitionsCompleted = whole.Partitions.Count(p => p.Completed),
                    Parts = parts,
                };
            }
        }
    }
}

internal static partial class MigrationLog
{
    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Checkpoint '{Checkpoint}' is split into {Count} partitions: {Open} to do here in {Lanes} lane(s), as {Holder}")]
    public static partial void PartitionsStarting(ILogger logger, string checkpoint, int count, int open, int lanes, string holder);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Partition {Partition} went to another worker after the lease of {Holder} ran out; its open batch was rolled back")]
    public static partial void LeaseLost(ILogger logger, string partition, string holder);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "Every partition of checkpoint '{Checkpoint}' is complete: the migration is complete")]
    public static partial void PartitionsCompleted(ILogger logger, string checkpoint);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Checkpoint '{Checkpoint}' is complete, but this run wrote no records, so the target's indexes were not built by it; build them with the target's own tools (for Postgres: CREATE INDEX)")]
    public static partial void NothingToFinishWith(ILogger logger, string checkpoint);
}
