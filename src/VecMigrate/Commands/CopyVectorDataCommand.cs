using System.Management.Automation;
using Microsoft.Extensions.Logging;
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

    protected override void EndProcessing()
    {
        var plan = $"Copy {Source} to {Target}" + (Checkpoint is null ? "" : $" with checkpoint '{Checkpoint}'{(Resume ? " (resumed if it exists)" : "")}");
        if (!ShouldWrite(plan, "Copy-VectorData", Target.Destructive, Force)) return;
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
                long shown = 0;
                var started = false;
                var options = new MigrationOptions
                {
                    Checkpoint = Checkpoint, Resume = Resume, TimeLimit = TimeLimit, MaxReconnects = MaxReconnects,
                    CheckpointStore = store,
                    // A refused record is a non-terminating error naming it, reported before the copy goes on (so that
                    // -ErrorAction Stop stops it there, and no error arrives after the summary).
                    OnRejected = (e, _) => writer.WriteErrorAsync(e),
                    Finish = token => Target.FinishAsync(sink, token),
                    Progress = p =>
                    {
                        if (!started)
                        {
                            // Records of earlier runs of the checkpoint count toward the source's total, not the rate.
                            started = true;
                            progress.StartFrom(p.TotalRecords - p.RecordsWritten);
                        }
                        writer.AdvanceProgress(progress, p.RecordsWritten - shown);
                        shown = p.RecordsWritten;
                    },
                };
                try
                {
                    var summary = await Migration.RunAsync(source, sink, options, loggers.CreateLogger(typeof(Migration)), token).ConfigureAwait(false);
                    await writer.WriteObjectAsync(summary).ConfigureAwait(false);
                }
                finally
                {
                    writer.CompleteProgress(progress);
                }
            }
        });
    }
}
