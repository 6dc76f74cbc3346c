using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Fan-out: a source that cannot be split (a JSONL.gz file, any source without <see cref="MigrationSource.Split"/>)
/// copied with lanes anyway. One reader reads it in order and cuts it into batches; the lanes (each its own sink and
/// connection) take the batches from a bounded channel and write them side by side, so memory holds at most a few
/// batches per lane however large the source is.
/// </summary>
/// <remarks>
/// <para><b>Exactly once.</b> Batches commit out of order (lane 2 may commit batch 7 before lane 1 commits batch 6),
/// so one position cannot say where the copy stands. Each record read gets an ordinal (its place in the source's
/// order); each lane has a checkpoint of its own (a partition of the split checkpoint, <c>big#2/4</c>) whose position
/// is a <see cref="FanOutState"/>: every record below a low ordinal is in the target, and so are the ranges listed
/// above it. The state a record carries to its lane's sink is the run's account at the time its batch was taken (the
/// low, and every batch acknowledged above it) plus its own batch up to and including that record, so whatever the
/// sink commits (a whole batch, or part of one) its checkpoint says exactly what that lane's commits hold, and never
/// claims more than the target has.</para>
/// <para>A <b>Postgres target</b> keeps each lane's state in the same transaction as the lane's batch (as it keeps any
/// checkpoint), fenced by the lane's lease; a crash at any moment leaves every lane's state true. A <b>target that
/// upserts by id</b> (Qdrant, Pinecone, Milvus) gets the state saved in the checkpoint folder after the batch is
/// acknowledged; a crash between the two replays that batch, which writes the same records again and changes
/// nothing. Targets that do neither are refused (<c>MigrationTargetCannotSplit</c>), as for partitions.</para>
/// <para><b>Resuming</b> reads every lane's state, reads the source again after the highest low, and skips every
/// record inside any lane's ranges: the records in the target are not written again, the rest are written once.</para>
/// <para>One reader feeds every lane, so one process holds every lane's lease for the whole run; a second process on
/// the same checkpoint is refused (<c>PartitionHeld</c>) rather than reading the source a second time. Workers given
/// -Partition cannot share one reader: such a source is refused for them (<c>MigrationSourceCannotSplit</c>).</para>
/// <para>A lost connection stops every lane (each rolls back its open batch) and the run resumes from the states, up
/// to <see cref="PartitionedMigrationOptions.MaxReconnects"/> times in a row.</para>
/// </remarks>
public static partial class PartitionedMigration
{
    private const string FanOutBoundsHead = "{\"fanOutLane\":";

    /// <summary>The stored bounds of fan-out lane <paramref name="lane"/>: not a part of the source, a lane's checkpoint.</summary>
    internal static string FanOutBounds(int lane) => FanOutBoundsHead + lane.ToString(CultureInfo.InvariantCulture) + "}";

    internal static bool IsFanOutBounds(string bounds) => bounds.StartsWith(FanOutBoundsHead, StringComparison.Ordinal);

    private sealed class FanOutBatch(object unit, long start, List<VectorRecord> records)
    {
        public object Unit { get; } = unit;
        public long Start { get; } = start;
        public List<VectorRecord> Records { get; } = records;
    }

    private sealed class FanOutLane(PartitionState slot, IRecordSink sink, ICheckpointStore store, bool transactional)
    {
        public PartitionState Slot { get; } = slot;
        public IRecordSink Sink { get; } = sink;
        public ICheckpointStore Store { get; } = store;
        public bool Transactional { get; } = transactional;
        public long Handed;
        public long Acked;
        public long Rejected;
    }

    private sealed partial class Run
    {
        private string FanOutDescription(int lane, int count) =>
            string.Create(CultureInfo.InvariantCulture, $"{source.Description}, fan-out lane {lane} of {count}");

        /// <summary>Runs the fan-out, resuming from the lanes' states after a lost connection (up to MaxReconnects in a row).</summary>
        private async Task<MigrationSummary> FanOutAsync(CancellationToken ct)
        {
            var backoff = new RetryPolicy { MaxAttempts = Math.Max(1, options.MaxReconnects), BaseDelay = options.ReconnectDelay, MaxDelay = TimeSpan.FromSeconds(30) };
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await FanOutOnceAsync(resume: attempt > 0, ct).ConfigureAwait(false);
                }
                catch (VecMigrateException ex) when (ex is not RecordRejectedException && ex.Kind is FailureKind.Unreachable or FailureKind.Timeout
                    && !ct.IsCancellationRequested && attempt < options.MaxReconnects && !TimeUp())
                {
                    var delay = backoff.DelayFor(attempt + 1, null);
                    MigrationLog.Reconnecting(logger, "source or target", ex.Message, attempt + 1, options.MaxReconnects, delay.TotalMilliseconds);
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                }
            }
        }

        private async Task<MigrationSummary> FanOutOnceAsync(bool resume, CancellationToken ct)
        {
            var whole = await OpenAsync(ct, resume).ConfigureAwait(false);
            if (whole.Partitions.Any(p => !IsFanOutBounds(p.Bounds)))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckpointMismatch",
                    $"Checkpoint '{_name}' ({ledger.Location}) was split into parts of {source.Description}, which this source cannot read alone. " +
                    "Remove it to start over. Nothing was read or written.", _name);
            }
            if (!resume) _before = whole.Records;
            if (whole.Completed)
            {
                MigrationLog.AlreadyComplete(logger, _name, whole.Records, whole.Target);
                return Summary(whole, alreadyComplete: true, completed: true);
            }
            var open = whole.Partitions.Where(p => !p.Completed).ToList();
            // A lane's checkpoint is marked complete only once every batch is in: then nothing is left to read.
            var allRead = open.Count < whole.Partitions.Count;
            var taken = new List<int>();
            try
            {
                foreach (var slot in open)
                {
                    if (!await ledger.TryTakeAsync(_name, slot.Index, options.Holder, options.Lease, ct).ConfigureAwait(false))
                    {
                        var now = (await ReloadAsync(ct).ConfigureAwait(false)).Partitions[slot.Index - 1];
                        if (now.Completed)
                        {
                            allRead = true;
                            continue;
                        }
                        throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionHeld",
                            $"Checkpoint '{_name}' ({ledger.Location}) is being copied by {now.Holder}, whose lease on lane {now.Index} lasts until {now.LeaseUntil:u}: " +
                            $"{source.Description} cannot be split, so one process reads it for all lanes. Run this again after that to take it over if that process has stopped. " +
                            "Nothing was read or written.", now.Name);
                    }
                    taken.Add(slot.Index);
                }
            }
            catch
            {
                foreach (var index in taken) await ReleaseQuietlyAsync(index).ConfigureAwait(false);
                throw;
            }

            var lanes = new List<FanOutLane>();
            var completed = false;
            try
            {
                foreach (var slot in open.Where(p => taken.Contains(p.Index)).Take(options.Lanes))
                {
                    lanes.Add(OpenLane(slot, whole.Partitions.Count));
                }
                var start = FanOutState.Combine(whole.Partitions.Select(p => FanOutState.Parse(p.Position, p.Name)));
                MigrationLog.FanOutStarting(logger, _name, lanes.Count, start.Low, start.Done.Sum(d => d.End - d.Start), options.Holder);
                if (!allRead && lanes.Count > 0) allRead = await CopyInLanesAsync(lanes, start, ct).ConfigureAwait(false);
                if (allRead)
                {
                    await CompleteLanesAsync(whole, lanes, taken, ct).ConfigureAwait(false);
                    completed = true;
                }
            }
            finally
            {
                // Open batches roll back when their sinks go; the sink that wrote last is kept for the indexes.
                foreach (var lane in lanes)
                {
                    if (completed && lane.Acked > 0 && _finisher is null) _finisher = lane.Sink;
                    else await DisposeQuietlyAsync(lane.Sink).ConfigureAwait(false);
                }
                if (!completed) foreach (var index in taken) await ReleaseQuietlyAsync(index).ConfigureAwait(false);
            }

            if (completed)
            {
                try
                {
                    if (await CompleteWholeAsync(ct).ConfigureAwait(false) && options.Finish is { } finish)
                    {
                        if (_finisher is null) MigrationLog.NothingToFinishWith(logger, _name);
                        await finish(_finisher, ct).ConfigureAwait(false);
                    }
                }
                finally
                {
                    if (_finisher is not null) await _finisher.DisposeAsync().ConfigureAwait(false);
                    _finisher = null;
                }
            }
            _clock.Stop();
            whole = await ReloadAsync(ct).ConfigureAwait(false);
            var summary = Summary(whole, alreadyComplete: false, completed: whole.Completed);
            MigrationLog.Finished(logger, summary.RecordsRead, summary.RecordsWritten, summary.RecordsRejected, summary.TotalRecords,
                summary.Reconnects, summary.Elapsed.TotalSeconds);
            return summary;
        }

        /// <summary>A lane's sink, fenced by its lease where the sink can (Postgres: the state commits with its batches), else with the ledger's store.</summary>
        private FanOutLane OpenLane(PartitionState slot, int count)
        {
            var sink = openSink();
            try
            {
                var fenced = sink.AttachLease(options.Holder, options.Lease);
                var kept = sink.AttachCheckpoint(slot.Name, FanOutDescription(slot.Index, count), resume: true);
                if (fenced && kept is not null) return new FanOutLane(slot, sink, kept, transactional: true);
                if (!fenced && sink.Idempotent && ledger.CheckpointStoreFor(options.Holder) is { } store) return new FanOutLane(slot, sink, store, transactional: false);
                throw new InvalidOperationException($"{sink.Target} neither keeps a lane's checkpoint with its batches under a lease nor upserts by id; it cannot be written in lanes.");
            }
            catch
            {
                _ = sink.DisposeAsync().AsTask();
                throw;
            }
        }

        private static async Task DisposeQuietlyAsync(IRecordSink sink)
        {
            try { await sink.DisposeAsync().ConfigureAwait(false); } catch (Exception e) when (e is not OutOfMemoryException) { }
        }

        /// <summary>One reader, the lanes behind it; true when the source was read to its end and every batch is in.</summary>
        private async Task<bool> CopyInLanesAsync(List<FanOutLane> lanes, FanOutState start, CancellationToken ct)
        {
            var account = new FanOutLedger(start);
            // Room for one batch per lane waiting, besides the one each lane writes and the one being read.
            var channel = Channel.CreateBounded<FanOutBatch>(new BoundedChannelOptions(lanes.Count) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Exception? failure = null;
            var timeUp = false;
            void Fail(Exception ex)
            {
                lock (_gate) failure ??= ex;
                stop.CancelQuietly();
                channel.Writer.TryComplete();
            }
            var reader = Task.Run(async () =>
            {
                try
                {
                    timeUp = !await ReadIntoAsync(channel.Writer, account, start, stop.Token).ConfigureAwait(false);
                    channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    Fail(ex);
                }
            }, CancellationToken.None);
            var writers = lanes.Select(lane => Task.Run(async () =>
            {
                try
                {
                    await WriteLaneAsync(lane, channel.Reader, account, stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Fail(ex);
                }
            }, CancellationToken.None)).ToList();
            await Task.WhenAll(writers.Append(reader)).ConfigureAwait(false);
            lock (_gate)
            {
                foreach (var lane in lanes)
                {
                    var written = Interlocked.Read(ref lane.Acked);
                    _parts.Add(new MigrationSummary(FanOutDescription(lane.Slot.Index, lane.Slot.Count), lane.Sink.Target, lane.Slot.Name, null, lane.Slot.Records,
                        Interlocked.Read(ref lane.Handed), written, Interlocked.Read(ref lane.Rejected), 0, 0, failure is null && !timeUp, false, _clock.Elapsed));
                }
            }
            if (failure is not null)
            {
                ct.ThrowIfCancellationRequested(); // the caller's Ctrl+C is what it is; a lane's own failure is the run's
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
            return !timeUp;
        }

        /// <summary>
        /// Reads after the start's low, skips what the target already holds, and cuts the rest into batches (never
        /// across a skipped run, so a batch's records are consecutive); false when the time limit stopped it.
        /// </summary>
        private async Task<bool> ReadIntoAsync(ChannelWriter<FanOutBatch> into, FanOutLedger account, FanOutState start, CancellationToken ct)
        {
            var size = options.FanOutBatchSize;
            var skip = start.Done;
            var next = 0;
            var ordinal = start.Low;
            List<VectorRecord>? batch = null;
            long batchStart = 0, skipStart = -1;
            string? skipLast = null;

            async Task PostAsync()
            {
                var unit = account.Add(batchStart, batchStart + batch!.Count, batch[^1].Position, done: false);
                await into.WriteAsync(new FanOutBatch(unit, batchStart, batch), ct).ConfigureAwait(false);
                batch = null;
            }

            void EndSkip()
            {
                if (skipStart < 0) return;
                account.Add(skipStart, ordinal, skipLast, done: true);
                skipStart = -1;
            }

            await foreach (var record in source.Read(start.After).WithCancellation(ct).ConfigureAwait(false))
            {
                if (TimeUp())
                {
                    EndSkip();
                    if (batch is not null) await PostAsync().ConfigureAwait(false);
                    return false;
                }
                if (record.Position is null)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationSourceCannotResume",
                        $"Record {record} from {source.Description} has no position, so checkpoint '{_name}' cannot record where its lanes are; copy it without -Parallel.",
                        record.ToString());
                }
                while (next < skip.Count && skip[next].End <= ordinal) next++;
                if (next < skip.Count && skip[next].Start <= ordinal)
                {
                    // Already in the target (a batch an earlier run committed out of order): read past it.
                    if (batch is not null) await PostAsync().ConfigureAwait(false);
                    if (skipStart < 0) skipStart = ordinal;
                    skipLast = record.Position;
                }
                else
                {
                    EndSkip();
                    if (batch is null)
                    {
                        batch = new List<VectorRecord>(size);
                        batchStart = ordinal;
                    }
                    batch.Add(record);
                    if (batch.Count >= size) await PostAsync().ConfigureAwait(false);
                }
                ordinal++;
            }
            EndSkip();
            if (batch is not null) await PostAsync().ConfigureAwait(false);
            return true;
        }

        /// <summary>Writes the batches a lane takes, each flushed whole, its state carried by every record (see the class remarks).</summary>
        private async Task WriteLaneAsync(FanOutLane lane, ChannelReader<FanOutBatch> from, FanOutLedger account, CancellationToken ct)
        {
            lane.Sink.BatchAcknowledged += b => Interlocked.Add(ref lane.Acked, b.Count);
            await foreach (var batch in from.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var prefix = account.Prefix();
                var ordinal = batch.Start;
                foreach (var r in batch.Records)
                {
                    var state = FanOutState.Format(prefix, batch.Start, ordinal + 1);
                    ordinal++;
                    var carried = r.WithPosition(state);
                    try
                    {
                        await lane.Sink.WriteAsync(carried, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref lane.Handed);
                    }
                    catch (RecordRejectedException rejected) when (options.OnRejected is { } onRejected)
                    {
                        Interlocked.Increment(ref lane.Rejected);
                        await _rejectGate.WaitAsync(ct).ConfigureAwait(false);
                        try { await onRejected(rejected, ct).ConfigureAwait(false); }
                        finally { _rejectGate.Release(); }
                    }
                }
                await lane.Sink.FlushAsync(ct).ConfigureAwait(false);
                account.Acknowledge(batch.Unit);
                if (!lane.Transactional)
                {
                    // After the acknowledgement: a crash before this save replays the batch, which an upsert by id shrugs off.
                    await lane.Store.SaveAsync(new MigrationCheckpoint(lane.Slot.Name, FanOutDescription(lane.Slot.Index, lane.Slot.Count), lane.Sink.Target,
                        FanOutState.Format(account.Prefix()), lane.Slot.Records + Interlocked.Read(ref lane.Acked), false, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
                }
                Report(lane.Slot.Index, new MigrationProgress(Interlocked.Read(ref lane.Handed), Interlocked.Read(ref lane.Acked), Interlocked.Read(ref lane.Rejected), 0, _clock.Elapsed));
            }
        }

        /// <summary>
        /// Every batch is in: each lane's checkpoint is marked complete (a Postgres sink that wrote does so itself, in
        /// the transaction it keeps them in), the lanes this run had no room for too.
        /// </summary>
        private async Task CompleteLanesAsync(PartitionedCheckpoint whole, List<FanOutLane> lanes, List<int> taken, CancellationToken ct)
        {
            foreach (var lane in lanes) await lane.Sink.CompleteAsync(ct).ConfigureAwait(false);
            var store = lanes.FirstOrDefault()?.Store ?? ledger.CheckpointStoreFor(options.Holder);
            foreach (var index in taken)
            {
                var slot = whole.Partitions[index - 1];
                var current = store is null ? null : await store.GetAsync(slot.Name, ct).ConfigureAwait(false);
                if (current is null || current.Completed) continue;
                // A lane this run had no room for may have lost its unrenewed lease meanwhile: take it again to close it.
                await ledger.TryTakeAsync(_name, index, options.Holder, options.Lease, ct).ConfigureAwait(false);
                await store!.SaveAsync(current with { Completed = true, UpdatedAt = DateTimeOffset.UtcNow }, ct).ConfigureAwait(false);
            }
        }
    }
}

internal static partial class MigrationLog
{
    [LoggerMessage(EventId = 5014, Level = LogLevel.Information, Message = "Checkpoint '{Checkpoint}' is copied by one reader feeding {Lanes} lane(s) as {Holder}, from record {Low} on ({Skipped} records after it are in the target already)")]
    public static partial void FanOutStarting(ILogger logger, string checkpoint, int lanes, long low, long skipped, string holder);
}
