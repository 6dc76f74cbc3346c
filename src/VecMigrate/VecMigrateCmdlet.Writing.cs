using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate;

// The Write- cmdlets' half of the base: records arrive here one by one (ProcessRecord, on the pipeline thread) and go
// to the engine's runner (Migration, as Copy-VectorData's) in a BackgroundWriter, whose refusals and failures come
// back here. A Write- cmdlet only says how to start (its sink, its plan for -WhatIf/-Confirm) and what to output.
public abstract partial class VecMigrateCmdlet
{
    private IRecordSink? _openSink;
    private BackgroundWriter? _writing;
    private ProgressMeter? _writingProgress;
    private bool _writingDeclined;

    /// <summary>
    /// Hands <paramref name="record"/> to the run, which <paramref name="start"/> starts on the first record (false:
    /// -WhatIf or a declined confirmation, and every record is passed over). While the channel is full, waits here
    /// (writing engine log lines meanwhile); reports what the sink refused (WriteError: -ErrorAction Stop stops the
    /// run at that record). A run that failed ends the command; what it committed stays.
    /// </summary>
    private protected void WriteRecord(VectorRecord record, Func<VectorRecord, bool> start)
    {
        if (_writingDeclined) return;
        if (_writing is null && !start(record))
        {
            _writingDeclined = true;
            return;
        }
        var run = _writing!;
        while (!TryPost(run, record))
        {
            Await(run.WaitAsync); // the sink is busy (committing): the channel is full
            run.ReportRejected(WriteError);
        }
        WritePending();
        run.ReportRejected(WriteError);
        if (_writingProgress!.Advance(1, out var snapshot)) WriteProgress(snapshot);
    }

    /// <summary>Makes the sink of a Write- cmdlet (invalid options end the command); it is disposed with the command.</summary>
    private protected T OpenSink<T>(Func<T> create) where T : IRecordSink => (T)(_openSink = Create(create));

    /// <summary>
    /// Starts the run on the sink made by <see cref="OpenSink{T}"/>, after the caller's ShouldProcess said yes. With a
    /// checkpoint, its source is the read <paramref name="first"/> came from (the same identity Copy-VectorData records,
    /// so either can resume the other), kept in <paramref name="store"/> or, for sinks that keep it with their data,
    /// in the target.
    /// </summary>
    private protected void StartWriting(VectorRecord first, string activity, string? checkpoint, bool resume,
        ICheckpointStore? store = null, Func<CancellationToken, Task>? finish = null)
    {
        var sink = _openSink ?? throw new InvalidOperationException("OpenSink first.");
        var options = new MigrationOptions { Checkpoint = checkpoint, Resume = resume, CheckpointStore = store, Finish = finish };
        _writing = new BackgroundWriter(sink, MigrationSource.DescribeOrigin(first), options, LoggerFactory.CreateLogger(typeof(Migration)),
            BackgroundWriter.DefaultCapacity, StopToken);
        _openSink = null; // the run owns it now
        _writingProgress = new ProgressMeter(activity);
    }

    /// <summary>
    /// Ends the run's input, reports its last refusals before it commits its last batch (so that -ErrorAction Stop
    /// still rolls that batch back), waits for it to finish, and closes the progress bar. False when no run started
    /// (no records, or declined): then there is nothing to report.
    /// </summary>
    private protected bool EndWriting()
    {
        if (_writing is not { } run) return false;
        run.EndInput();
        while (!run.IsDone)
        {
            Await(run.WaitAsync);
            run.ReportRejected(WriteError);
        }
        Await(run.WaitAsync); // throws the run's failure, if it failed
        WriteProgress(_writingProgress!.Complete());
        _writing = null;
        Await(_ => run.DisposeAsync().AsTask());
        return true;
    }

    /// <summary>The checkpoint files in <paramref name="folder"/> (relative to the current PowerShell location), or null for the default folder.</summary>
    private protected FileCheckpointStore? CheckpointFiles(string? folder) =>
        folder is null ? null : new FileCheckpointStore(SessionState.Path.GetUnresolvedProviderPathFromPSPath(folder));

    /// <summary>Makes an engine object whose constructor checks its options; invalid ones end the command.</summary>
    private protected T Create<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (VecMigrateException e)
        {
            ThrowTerminatingError(e);
            throw; // not reached
        }
    }

    /// <summary>
    /// Ctrl+C, -ErrorAction Stop or a failure before the end: stops the run, which rolls back its open batch (committed
    /// batches stay), and disposes the sink. PowerShell disposes a cmdlet through IDisposable on the pipeline thread,
    /// with nothing left to pump, so this one place waits for the async disposal, run on the thread pool (nothing it
    /// awaits needs this thread, so it cannot deadlock). After a normal end, <see cref="EndWriting"/> has disposed it.
    /// </summary>
    private void ReleaseWriting()
    {
        IAsyncDisposable? left = (IAsyncDisposable?)_writing ?? _openSink;
        _writing = null;
        _openSink = null;
        if (left is not null) Task.Run(() => left.DisposeAsync().AsTask()).GetAwaiter().GetResult();
    }

    private bool TryPost(BackgroundWriter run, VectorRecord record)
    {
        try
        {
            return run.TryPost(record);
        }
        catch (Exception e)
        {
            ThrowTerminatingError(e);
            throw; // not reached
        }
    }
}
