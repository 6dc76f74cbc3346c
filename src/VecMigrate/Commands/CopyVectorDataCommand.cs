using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Copy-VectorData: copies a source into a target through the engine's resumable runner. With -Checkpoint and
/// -Resume the same command starts, continues, or finds there is nothing left to do.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "VectorData", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MigrationSummary))]
public sealed class CopyVectorDataCommand : VecMigrateCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public MigrationSourceSpec Source { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNull]
    public MigrationTargetSpec Target { get; set; } = null!;

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string? Checkpoint { get; set; }

    /// <summary>Continue the checkpoint if it exists, start it if not; nothing to do if it is complete.</summary>
    [Parameter] public SwitchParameter Resume { get; set; }

    /// <summary>Stop reading after this long, commit what was read and return a summary that is not complete.</summary>
    [Parameter] public TimeSpan? TimeLimit { get; set; }

    /// <summary>The folder of file checkpoints (targets other than Postgres).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    [Parameter]
    [ValidateRange(0, 100)]
    public int MaxReconnects { get; set; } = 5;

    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>
    /// Copies with this many lanes in this process: the source is split into as many partitions (fixed with the
    /// checkpoint), each lane copies one partition at a time on its own connection. A source that cannot be split
    /// (a JSONL.gz file) is read by one reader that feeds the lanes (the engine's fan-out).
    /// </summary>
    [Parameter]
    [ValidateRange(1, PartitionedMigrationOptions.MaxLanes)]
    public int Parallel { get; set; } = 1;

    /// <summary>Worker mode: copies partition i of N ("3/8") of the checkpoint only, for jobs that share one migration.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Partition { get; set; }

    /// <summary>How long a worker's hold on a partition lasts without a committed batch renewing it (default 5 minutes).</summary>
    [Parameter]
    public TimeSpan? LeaseTime { get; set; }

    protected override void EndProcessing()
    {
        var split = Parallel > 1 || Partition is not null;
        PartitionSelector? partition = null;
        try
        {
            if (Partition is not null) partition = PartitionSelector.Parse(Partition);
        }
        catch (VecMigrateException ex)
        {
            ThrowTerminatingError(ex);
        }
        if (split) CheckSplit();
        var plan = $"Copy {Source} to {Target}" + (Checkpoint is null ? "" : $" with checkpoint '{Checkpoint}'{(Resume ? " (resumed if it exists)" : "")}")
            + (partition is { } p ? $", partition {p}" : Parallel > 1 ? $" in {Parallel} lanes" : "");
        if (!ShouldWrite(plan, "Copy-VectorData", Target.Destructive, Force)) return;
        // A checkpoint made split is resumed split, even without -Parallel (one lane then).
        var ledger = Checkpoint is null ? null : Target.OpenPartitionLedger(StateFolder());
        if (!split && ledger is not null && Resume && Await(token => IsSplitAsync(ledger, Checkpoint!, token))) split = true;
        if (split)
        {
            CopySplit(ledger!, partition);
            return;
        }
        var store = CheckpointFiles(StateDirectory);
        var loggers = LoggerFactory;
        var progress = new ProgressMeter($"Copying {Source.System} to {Target.System}");
        using var transport = new RestTransport(logger: loggers.CreateLogger<RestTransport>());
        RunAsync(async (writer, token) =>
        {
            var source = Source.Open(transport, loggers);
            var sink = Target.Open(transport, loggers);
            await using (sink.ConfigureAwait(false))
            {
                await progress.SetTotalFromAsync(source.EstimateCountAsync, token).ConfigureAwait(false);
                var options = new MigrationOptions
                {
                    Checkpoint = Checkpoint, Resume = Resume, TimeLimit = TimeLimit, MaxReconnects = MaxReconnects,
                    CheckpointStore = store,
                    // A refused record is a non-terminating error naming it, reported before the copy goes on (so that
                    // -ErrorAction Stop stops it there, and no error arrives after the summary).
                    OnRejected = (e, _) => writer.WriteErrorAsync(e),
                    Finish = token => Target.FinishAsync(sink, token),
                    Progress = ShowProgress(writer, progress),
                };
                try
                {
                    var summary = await Migration.RunAsync(source, sink, options, loggers.CreateLogger(typeof(Migration)), token).ConfigureAwait(false);
                    await writer.WriteObjectAsync(summary with { SourceSpec = Source, TargetSpec = Target }).ConfigureAwait(false);
                }
                finally
                {
                    writer.CompleteProgress(progress);
                }
            }
        });
    }

    /// <summary>The runner's counts as the progress bar: records of earlier runs count toward the total, not the rate.</summary>
    private static Action<MigrationProgress> ShowProgress(PipelineWriter writer, ProgressMeter progress)
    {
        long shown = 0;
        var started = false;
        return p =>
        {
            if (!started)
            {
                started = true;
                progress.StartFrom(p.TotalRecords - p.RecordsWritten);
            }
            writer.AdvanceProgress(progress, p.RecordsWritten - shown);
            shown = p.RecordsWritten;
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(string id, string message) => ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, id, message));

    private void CheckSplit()
    {
        if (Checkpoint is null)
        {
            Fail("PartitionNeedsCheckpoint", "-Parallel and -Partition need -Checkpoint: the split and each partition's progress are kept with it, so that every lane and worker copies its part once.");
        }
        if (Parallel > 1 && Partition is not null)
        {
            Fail("PartitionWithParallel", "Give -Parallel (lanes in this process, taking partitions as they come) or -Partition (this worker copies that one), not both.");
        }
        if (Target.CannotWriteInParallelBecause is { } why)
        {
            Fail("MigrationTargetCannotSplit", $"{Target} cannot be written in parallel: {why}. Nothing was read or written.");
        }
        if (Target.OpenPartitionLedger(StateFolder()) is null)
        {
            Fail("MigrationTargetCannotSplit",
                $"{Target} cannot be written in parallel lanes: a Postgres target keeps each partition's lease with its batches, and Qdrant, Pinecone and " +
                "Milvus targets upsert by id (their partitions are kept in the checkpoint folder); this one does neither. Copy without -Parallel and -Partition. " +
                "Nothing was read or written.");
        }
    }

    /// <summary>-StateDirectory as a file system path (relative to the current PowerShell location); null when not given.</summary>
    private string? StateFolder() => StateDirectory is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(StateDirectory);

    private static async Task<bool> IsSplitAsync(IPartitionLedger ledger, string name, CancellationToken token)
    {
        try
        {
            return await ledger.GetAsync(name, token).ConfigureAwait(false) is not null;
        }
        catch (VecMigrateException ex) when (ex.ErrorId == "PartitionCheckpointNotSplit")
        {
            return false;
        }
    }

    private void CopySplit(IPartitionLedger ledger, PartitionSelector? partition)
    {
        var loggers = LoggerFactory;
        var progress = new ProgressMeter($"Copying {Source.System} to {Target.System}" + (partition is { } p ? $" (partition {p})" : $" in {Parallel} lane(s)"));
        using var transport = new RestTransport(logger: loggers.CreateLogger<RestTransport>());
        RunAsync(async (writer, token) =>
        {
            var source = Source.Open(transport, loggers);
            await progress.SetTotalFromAsync(source.EstimateCountAsync, token).ConfigureAwait(false);
            var options = new PartitionedMigrationOptions
            {
                Checkpoint = Checkpoint!, Resume = Resume, Lanes = Parallel, Partition = partition, TimeLimit = TimeLimit, MaxReconnects = MaxReconnects,
                Lease = LeaseTime ?? PartitionedMigrationOptions.DefaultLease,
                OnRejected = (e, _) => writer.WriteErrorAsync(e),
                // Indexes wait for all the data: built by the worker that completes the last partition.
                Finish = (sink, t) => sink is null ? Task.CompletedTask : Target.FinishAsync(sink, t),
                Progress = ShowProgress(writer, progress),
            };
            try
            {
                var summary = await PartitionedMigration.RunAsync(source, () => Target.Open(transport, loggers), ledger, options,
                    loggers.CreateLogger(typeof(PartitionedMigration)), token).ConfigureAwait(false);
                await writer.WriteObjectAsync(summary with { SourceSpec = Source, TargetSpec = Target }).ConfigureAwait(false);
            }
            finally
            {
                writer.CompleteProgress(progress);
            }
        });
    }
}
