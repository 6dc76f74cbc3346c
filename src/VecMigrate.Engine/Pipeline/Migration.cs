using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Pipeline;

/// <summary>How a <see cref="Migration"/> runs.</summary>
public sealed class MigrationOptions
{
    /// <summary>
    /// The checkpoint's name (letters, digits, '.', '_', '-'). Null: no checkpoint, and a run that stops cannot be
    /// resumed.
    /// </summary>
    public string? Checkpoint { get; init; }

    /// <summary>
    /// Continue the checkpoint when it exists (start when it does not; do nothing when it is complete). Without it
    /// an existing checkpoint is refused, so that nothing is started over by accident.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Where to keep the checkpoint when the target cannot keep it with its data (Qdrant, Pinecone). Null: a
    /// <see cref="FileCheckpointStore"/> in its default folder. Not used for Postgres targets.
    /// </summary>
    public ICheckpointStore? CheckpointStore { get; init; }

    /// <summary>Reconnects in a row, after lost connections, before the run stops (0: stop at the first loss).</summary>
    public int MaxReconnects { get; init; } = 5;

    /// <summary>The wait before the first reconnect; it doubles with each one (with jitter), up to 30 seconds.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Stop reading once this much time has passed, commit what was read and return (not complete): for jobs that
    /// are stopped after a fixed time (Azure Automation's 3 hours), so that a slice ends with its summary and the
    /// next one resumes. Null: no limit.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>
    /// Reports each record the target refuses, and the run goes on once it returns (throwing stops the run there,
    /// before anything after the refused record is committed); null: the first refusal stops the run.
    /// </summary>
    public Func<RecordRejectedException, CancellationToken, ValueTask>? OnRejected { get; init; }

    /// <summary>Work that waits for all the data (building indexes), run once a run has completed the copy; null: none.</summary>
    public Func<CancellationToken, Task>? Finish { get; init; }

    /// <summary>Called after each acknowledged batch, on the thread that runs the migration.</summary>
    public Action<MigrationProgress>? Progress { get; init; }
}

/// <summary>A run's counts so far.</summary>
/// <param name="RecordsRead">Records read from the source in this run.</param>
/// <param name="RecordsWritten">Records the target acknowledged in this run.</param>
/// <param name="RecordsRejected">Records the target refused in this run.</param>
/// <param name="TotalRecords">Records acknowledged in all runs of the checkpoint, this one included.</param>
/// <param name="Elapsed">Time since the run started.</param>
public readonly record struct MigrationProgress(long RecordsRead, long RecordsWritten, long RecordsRejected, long TotalRecords, TimeSpan Elapsed);

/// <summary>What a run did.</summary>
/// <param name="Source">The source's description.</param>
/// <param name="Target">The target's description.</param>
/// <param name="Checkpoint">The checkpoint's name, or null.</param>
/// <param name="ResumedAfter">The position the run started after (from the checkpoint); null when it started at the beginning.</param>
/// <param name="RecordsBefore">Records the checkpoint held when the run started.</param>
/// <param name="RecordsRead">Records read from the source, re-reads included.</param>
/// <param name="RecordsWritten">Records the target acknowledged in this run.</param>
/// <param name="RecordsRejected">Records the target refused.</param>
/// <param name="RecordsReread">
/// Records read twice in this run: after a lost connection the source starts again after the last acknowledged
/// record, so what was read past it (the batch that was rolled back, or not acknowledged) is read again.
/// </param>
/// <param name="Reconnects">Times the run reconnected after a lost connection.</param>
/// <param name="Completed">The source was read to its end and the target holds it all (false: the time limit stopped the run).</param>
/// <param name="AlreadyComplete">The checkpoint was complete: nothing was read or written.</param>
/// <param name="Elapsed">How long the run took.</param>
public sealed record MigrationSummary(string Source, string Target, string? Checkpoint, string? ResumedAfter, long RecordsBefore,
    long RecordsRead, long RecordsWritten, long RecordsRejected, long RecordsReread, int Reconnects, bool Completed, bool AlreadyComplete, TimeSpan Elapsed)
{
    /// <summary>Records acknowledged in all runs of the checkpoint, this one included.</summary>
    public long TotalRecords => RecordsBefore + RecordsWritten;

    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? RecordsWritten / Elapsed.TotalSeconds : 0;

    /// <summary>What Copy-VectorData read (so that Test-VectorMigration can check the copy it is given); null from other runs.</summary>
    public MigrationSourceSpec? SourceSpec { get; init; }

    /// <summary>What Copy-VectorData wrote into; null from other runs.</summary>
    public MigrationTargetSpec? TargetSpec { get; init; }

    /// <summary>The lanes this run wrote with, for a migration split into partitions; null for one that is not split.</summary>
    public int? Lanes { get; init; }

    /// <summary>The partitions of the split (null when not split).</summary>
    public int? PartitionCount { get; init; }

    /// <summary>The partitions complete when the run ended, by any worker (null when not split).</summary>
    public int? PartitionsCompleted { get; init; }

    /// <summary>What this run did in each partition it took, in the order it finished them (null when not split).</summary>
    public IReadOnlyList<MigrationSummary>? Parts { get; init; }

    /// <summary>The partition's checkpoint, for a summary in <see cref="Parts"/> (e.g. big#3/8); null otherwise.</summary>
    public string? Partition => Checkpoint is { } name && PartitionNames.TryParse(name, out _, out var p) ? p.ToString() : null;
}

/// <summary>
/// Copies a source into a sink so that a run killed at any moment can be run again with <c>Resume</c> and end with
/// exactly the source's records in the target, having re-read only what was past the last acknowledged batch.
/// </summary>
/// <remarks>
/// <para>The checkpoint records the source position of the last record the target acknowledged. A Postgres target
/// keeps it in its own table, in each batch's transaction (<see cref="IRecordSink.AttachCheckpoint"/>), so data
/// and checkpoint cannot disagree; other targets (idempotent upserts) get it in a file, written after the
/// acknowledgement: a crash between the two replays one batch, which rewrites the same records.</para>
/// <para>A lost connection (a <see cref="VecMigrateException"/> of kind Unreachable or Timeout) does not end the run
/// at once. If the source lost it, the source reads again after the last record handed to the sink (the open
/// batch stays). If the sink lost it, its open batch is gone: the sink reopens and the source reads again after
/// the last acknowledged record, which for a Postgres target is read back from the checkpoint (so a commit whose
/// answer was lost is not written twice). At most <see cref="MigrationOptions.MaxReconnects"/> in a row, with
/// growing waits; then the run stops with <c>MigrationInterrupted</c>, and a resume goes on from the checkpoint.</para>
/// </remarks>
public static class Migration
{
    /// <summary>Runs the migration. The caller owns <paramref name="sink"/> and disposes it.</summary>
    public static Task<MigrationSummary> RunAsync(MigrationSource source, IRecordSink sink, MigrationOptions? options = null,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new MigrationOptions();
        if (options.MaxReconnects < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxReconnects cannot be negative.");
        return new Run(source, sink, options, logger ?? NullLogger.Instance).ExecuteAsync(cancellationToken);
    }

    private enum Side
    {
        Source,
        Target,
    }

    /// <summary>A lost connection on one side, on its way to the reconnect logic.</summary>
    private sealed class Lost(Side side, VecMigrateException inner) : Exception(inner.Message, inner)
    {
        public Side Side { get; } = side;

        public VecMigrateException Cause { get; } = inner;
    }

    private sealed class Run(MigrationSource source, IRecordSink sink, MigrationOptions options, ILogger logger)
    {
        private readonly Stopwatch _clock = new();
        private readonly object _gate = new();
        private string? _name;
        private ICheckpointStore? _store;
        private bool _transactional;
        private string? _startAfter;
        private long _before;
        private long _read;
        private long _handed;     // records given to the sink and not refused, in this run
        private long _rejected;
        private long _reread;
        private int _reconnects;
        private int _lossesInARow;
        private string? _lastHanded;   // position of the last record handed to the sink (taken or refused)
        private bool _timeUp;

        // Written by BatchAcknowledged, which a sink may raise on another thread.
        private long _acked;
        private string? _ackedPosition;
        private bool _ackPending;

        public async Task<MigrationSummary> ExecuteAsync(CancellationToken ct)
        {
            _clock.Start();
            var state = await OpenCheckpointAsync(ct).ConfigureAwait(false);
            // A source read again from its start is done when its checkpoint is complete. Records piped in are what
            // the caller chose to write after it (the input of an earlier run may have been cut short): they go on.
            if (state is { Completed: true } && source.CanReread)
            {
                MigrationLog.AlreadyComplete(logger, _name!, state.Records, state.Target);
                _before = state.Records;
                return Summary(state.Position, alreadyComplete: true);
            }
            _before = state?.Records ?? 0;
            _startAfter = state?.Position;
            _ackedPosition = _startAfter;
            if (state is null) MigrationLog.Starting(logger, source.Description, sink.Target, _name ?? "(none)");
            else MigrationLog.Resuming(logger, _name!, state.Position ?? "the beginning", state.Records);

            sink.BatchAcknowledged += OnAcknowledged;
            try
            {
                var after = _startAfter;
                while (true)
                {
                    try
                    {
                        await CopyAsync(after, ct).ConfigureAwait(false);
                        if (!_timeUp) await OnTargetAsync(() => sink.CompleteAsync(ct)).ConfigureAwait(false);
                        await TakeAcknowledgementsAsync(ct).ConfigureAwait(false);
                        break;
                    }
                    catch (Lost lost)
                    {
                        ct.ThrowIfCancellationRequested();
                        after = await RecoverAsync(lost, ct).ConfigureAwait(false);
                    }
                }
                if (!_timeUp)
                {
                    await MarkCompletedAsync(ct).ConfigureAwait(false);
                    if (options.Finish is { } finish) await finish(ct).ConfigureAwait(false);
                }
            }
            finally
            {
                sink.BatchAcknowledged -= OnAcknowledged;
            }
            _clock.Stop();
            var summary = Summary(_startAfter, alreadyComplete: false);
            if (_timeUp) MigrationLog.TimeUp(logger, options.TimeLimit!.Value.TotalMinutes, summary.TotalRecords, _name ?? "(none)");
            MigrationLog.Finished(logger, summary.RecordsRead, summary.RecordsWritten, summary.RecordsRejected, summary.TotalRecords,
                summary.Reconnects, summary.Elapsed.TotalSeconds);
            return summary;
        }

        private MigrationSummary Summary(string? resumedAfter, bool alreadyComplete)
        {
            lock (_gate)
            {
                return new MigrationSummary(source.Description, sink.Target, _name, resumedAfter, _before,
                    _read, _acked, _rejected, _reread, _reconnects, Completed: !_timeUp, alreadyComplete, _clock.Elapsed);
            }
        }

        /// <summary>Finds the checkpoint's store, reads it, and refuses one that belongs to another migration.</summary>
        private async Task<MigrationCheckpoint?> OpenCheckpointAsync(CancellationToken ct)
        {
            if (options.Checkpoint is null)
            {
                if (options.Resume)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationResumeNeedsCheckpoint",
                        "Resuming needs the name of the checkpoint to resume.");
                }
                return null;
            }
            // A partition of a split migration runs under its own checkpoint, named after the whole (big#3/8).
            _name = PartitionNames.TryParse(options.Checkpoint, out _, out _) ? options.Checkpoint : CheckpointNames.Check(options.Checkpoint);
            _store = sink.AttachCheckpoint(_name, source.Description, options.Resume);
            _transactional = _store is not null;
            if (_store is null)
            {
                if (!sink.Idempotent)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointUnsupported",
                        $"{sink.Target} can neither keep checkpoint '{_name}' with its data nor take a replayed batch harmlessly, so a resume could write records twice.",
                        _name);
                }
                _store = options.CheckpointStore ?? new FileCheckpointStore();
            }
            var state = await _store.GetAsync(_name, ct).ConfigureAwait(false);
            if (state is null) return null;
            if (state.Partitions is { } parts)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointSplit",
                    $"Checkpoint '{_name}' ({_store.Location}) is split into {parts} partitions, each with its own position; resume it with Copy-VectorData " +
                    "(-Parallel, -Partition, or neither: one lane), not record by record. Nothing was read or written.", _name);
            }
            if (!string.Equals(state.Source, source.Description, StringComparison.Ordinal) || !string.Equals(state.Target, sink.Target, StringComparison.Ordinal))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointMismatch",
                    $"Checkpoint '{_name}' ({_store.Location}) was recorded for {state.Source} → {state.Target}, not {source.Description} → {sink.Target}. " +
                    "Use another checkpoint name, or remove this one to start over. Nothing was read or written.", _name);
            }
            if (!options.Resume)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointExists",
                    $"Checkpoint '{_name}' ({_store.Location}) already records {state.Records} records written to {state.Target}{(state.Completed ? " and is complete" : "")}. " +
                    "Resume it, or remove it to start over. Nothing was read or written.", _name);
            }
            return state;
        }

        /// <summary>Reads after <paramref name="after"/> and hands every record to the sink.</summary>
        private async Task CopyAsync(string? after, CancellationToken ct)
        {
            _lastHanded = after;
            var records = source.Read(after).WithCancellation(ct).ConfigureAwait(false).GetAsyncEnumerator();
            try
            {
                while (true)
                {
                    if (options.TimeLimit is { } limit && _clock.Elapsed >= limit)
                    {
                        _timeUp = true; // read no more; what was read is committed below
                        break;
                    }
                    bool more;
                    try
                    {
                        more = await records.MoveNextAsync();
                    }
                    catch (VecMigrateException ex) when (IsConnectionLoss(ex))
                    {
                        throw new Lost(Side.Source, ex);
                    }
                    if (!more) break;
                    var record = records.Current;
                    Interlocked.Increment(ref _read);
                    // Piped records without a position (built from objects) still keep the checkpoint's counts.
                    if (_name is not null && record.Position is null && source.CanReread)
                    {
                        throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationSourceCannotResume",
                            $"Record {record} from {source.Description} has no position, so checkpoint '{_name}' cannot record where the run is; run without a checkpoint.",
                            record.ToString());
                    }
                    // Counted before the call: a record whose write lost the connection is read again too.
                    Interlocked.Increment(ref _handed);
                    try
                    {
                        await OnTargetAsync(() => sink.WriteAsync(record, ct).AsTask()).ConfigureAwait(false);
                    }
                    catch (RecordRejectedException rejected) when (options.OnRejected is not null)
                    {
                        Interlocked.Decrement(ref _handed);
                        Interlocked.Increment(ref _rejected);
                        await options.OnRejected(rejected, ct).ConfigureAwait(false);
                    }
                    _lastHanded = record.Position;
                    await TakeAcknowledgementsAsync(ct).ConfigureAwait(false);
                }
                await OnTargetAsync(() => sink.FlushAsync(ct)).ConfigureAwait(false);
            }
            finally
            {
                await records.DisposeAsync();
            }
        }

        private static async Task OnTargetAsync(Func<Task> call)
        {
            try
            {
                await call().ConfigureAwait(false);
            }
            catch (VecMigrateException ex) when (IsConnectionLoss(ex))
            {
                throw new Lost(Side.Target, ex);
            }
        }

        private static bool IsConnectionLoss(VecMigrateException ex) =>
            ex is not RecordRejectedException && ex.Kind is FailureKind.Unreachable or FailureKind.Timeout;

        private void OnAcknowledged(AcknowledgedBatch batch)
        {
            lock (_gate)
            {
                _acked += batch.Count;
                if (batch.LastPosition is not null) _ackedPosition = batch.LastPosition;
                _ackPending = true;
            }
        }

        /// <summary>Moves a file checkpoint to the last acknowledged batch and reports progress.</summary>
        private async Task TakeAcknowledgementsAsync(CancellationToken ct)
        {
            long acked;
            string? position;
            lock (_gate)
            {
                if (!_ackPending) return;
                _ackPending = false;
                acked = _acked;
                position = _ackedPosition;
            }
            _lossesInARow = 0; // the target took a batch: the connection is good again
            if (_store is not null && !_transactional)
            {
                await _store.SaveAsync(new MigrationCheckpoint(_name!, source.Description, sink.Target, position, _before + acked, false, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
                MigrationLog.CheckpointAdvanced(logger, _name!, position ?? "(none)", _before + acked);
            }
            options.Progress?.Invoke(new MigrationProgress(Interlocked.Read(ref _read), acked, Interlocked.Read(ref _rejected), _before + acked, _clock.Elapsed));
        }

        /// <summary>Reconnects (bounded, with growing waits) and says where the source is to read again from.</summary>
        private async Task<string?> RecoverAsync(Lost lost, CancellationToken ct)
        {
            var cause = lost.Cause;
            // Records that cannot be read again (piped in) cannot be replayed after the target lost its open batch:
            // the sink's own error says what was kept and what was rolled back.
            if (!source.CanReread) ExceptionDispatchInfo.Capture(cause).Throw();
            if (lost.Side == Side.Target && !_transactional && !sink.Idempotent)
            {
                throw new VecMigrateException(cause.Kind, "MigrationInterrupted",
                    $"{cause.Message} Without a checkpoint kept with the data, {sink.Target} cannot be written to again safely after a lost connection (a batch whose answer was lost could be written twice); " +
                    "name a checkpoint to let a run reconnect and resume.", sink.Target, cause);
            }
            var backoff = new RetryPolicy { MaxAttempts = Math.Max(1, options.MaxReconnects), BaseDelay = options.ReconnectDelay, MaxDelay = TimeSpan.FromSeconds(30) };
            while (true)
            {
                _lossesInARow++;
                if (_lossesInARow > options.MaxReconnects)
                {
                    throw GiveUp(lost.Side, cause);
                }
                var delay = backoff.DelayFor(_lossesInARow, null);
                MigrationLog.Reconnecting(logger, lost.Side == Side.Source ? "source" : "target", cause.Message, _lossesInARow, options.MaxReconnects, delay.TotalMilliseconds);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                try
                {
                    var after = lost.Side == Side.Source ? _lastHanded : await ReopenTargetAsync(ct).ConfigureAwait(false);
                    _reconnects++;
                    MigrationLog.Reconnected(logger, after ?? "the beginning", _reread);
                    return after;
                }
                catch (VecMigrateException again) when (IsConnectionLoss(again) && !ct.IsCancellationRequested)
                {
                    cause = again;
                }
            }
        }

        /// <summary>
        /// Reopens the sink after it lost its open batch, and returns the position of the last record the target
        /// holds: the checkpoint's when the target keeps it (a commit whose answer was lost counts), else the last
        /// acknowledged one.
        /// </summary>
        private async Task<string?> ReopenTargetAsync(CancellationToken ct)
        {
            await sink.ReopenAsync(ct).ConfigureAwait(false);
            lock (_gate) _ackPending = false;
            long acked;
            string? position;
            if (_transactional)
            {
                var state = await _store!.GetAsync(_name!, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    // The checkpoint moved with every commit, including one whose answer never arrived.
                    if (state is not null)
                    {
                        _acked = state.Records - _before;
                        _ackedPosition = state.Position;
                    }
                    acked = _acked;
                    position = _ackedPosition;
                }
            }
            else
            {
                lock (_gate)
                {
                    acked = _acked;
                    position = _ackedPosition;
                }
            }
            var handed = Interlocked.Exchange(ref _handed, acked);
            _reread += Math.Max(0, handed - acked);
            return position;
        }

        private VecMigrateException GiveUp(Side side, VecMigrateException cause)
        {
            var what = side == Side.Source ? source.Description : sink.Target;
            var resume = _name is null
                ? "No checkpoint was named, so a new run starts from the beginning."
                : $"Checkpoint '{_name}' records the {_before + Interlocked.Read(ref _acked)} records the target holds: resume it to go on from there.";
            return new VecMigrateException(cause.Kind, "MigrationInterrupted",
                $"Lost the connection to {what} and could not go on after {options.MaxReconnects} reconnect(s): {cause.Message} {resume}",
                what, cause);
        }

        /// <summary>Records that the source was read to its end (a Postgres sink has usually done so in its last commit).</summary>
        private async Task MarkCompletedAsync(CancellationToken ct)
        {
            if (_store is null) return;
            MigrationCheckpoint? current = _transactional ? await _store.GetAsync(_name!, ct).ConfigureAwait(false) : null;
            if (current is { Completed: true }) return;
            long acked;
            string? position;
            lock (_gate)
            {
                acked = _acked;
                position = _ackedPosition;
            }
            await _store.SaveAsync(new MigrationCheckpoint(_name!, source.Description, sink.Target,
                current?.Position ?? position, current?.Records ?? _before + acked, true, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
        }
    }
}

/// <summary>The migration runner's log lines (event ids 5000-5099). Positions are source ids or opaque tokens; never secrets.</summary>
internal static partial class MigrationLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Migrating {Source} to {Target} from the beginning (checkpoint {Checkpoint})")]
    public static partial void Starting(ILogger logger, string source, string target, string checkpoint);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Resuming checkpoint '{Checkpoint}' after {Position} ({Records} records written before)")]
    public static partial void Resuming(ILogger logger, string checkpoint, string position, long records);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Checkpoint '{Checkpoint}' is complete ({Records} records in {Target}); nothing to do")]
    public static partial void AlreadyComplete(ILogger logger, string checkpoint, long records, string target);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "Checkpoint '{Checkpoint}' advanced to {Position} ({Records} records)")]
    public static partial void CheckpointAdvanced(ILogger logger, string checkpoint, string position, long records);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Lost the connection to the {Side}: {Reason} Reconnect {Attempt} of {Max} in {DelayMs:0} ms")]
    public static partial void Reconnecting(ILogger logger, string side, string reason, int attempt, int max, double delayMs);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Reconnected; reading again after {Position} ({Reread} records re-read so far)")]
    public static partial void Reconnected(ILogger logger, string position, long reread);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "The time limit of {Minutes:0.#} minutes is reached: stopping with {Total} records written; resume checkpoint {Checkpoint} to go on")]
    public static partial void TimeUp(ILogger logger, double minutes, long total, string checkpoint);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Migration done: {Read} read, {Written} written, {Rejected} rejected, {Total} in all, {Reconnects} reconnect(s), {Seconds:0.0} s")]
    public static partial void Finished(ILogger logger, long read, long written, long rejected, long total, int reconnects, double seconds);
}
