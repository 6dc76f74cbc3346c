using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate;

// The Write- cmdlets' half of the base: records arrive here one by one (ProcessRecord, on the pipeline
// thread) and go to an engine sink running in a BackgroundWriter, whose refusals and failures come back here.
public abstract partial class VecMigrateCmdlet
{
    /// <summary>
    /// Hands <paramref name="record"/> to the sink. While its channel is full, waits here (writing engine log lines
    /// meanwhile); reports what it refused (WriteError: -ErrorAction Stop stops the sink at that record) and
    /// advances <paramref name="progress"/>. A sink that failed ends the command; what it committed stays.
    /// </summary>
    private protected void Feed(BackgroundWriter sink, VectorRecord record, ProgressMeter progress)
    {
        while (!TryPost(sink, record))
        {
            Await(sink.WaitAsync); // the sink is busy (committing): the channel is full
            sink.ReportRejected(WriteError);
        }
        WritePending();
        sink.ReportRejected(WriteError);
        if (progress.Advance(1, out var snapshot)) WriteProgress(snapshot);
    }

    /// <summary>
    /// Ends the sink's input, reports its last refusals before it commits its last batch (so that -ErrorAction
    /// Stop still rolls that batch back), lets it finish, and closes <paramref name="progress"/>.
    /// </summary>
    private protected void Finish(BackgroundWriter sink, ProgressMeter progress)
    {
        sink.EndInput();
        while (!sink.IsDrained)
        {
            Await(sink.WaitAsync);
            sink.ReportRejected(WriteError);
        }
        Await(sink.CompleteAsync);
        WriteProgress(progress.Complete());
    }

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

    private bool TryPost(BackgroundWriter sink, VectorRecord record)
    {
        try
        {
            return sink.TryPost(record);
        }
        catch (Exception e)
        {
            ThrowTerminatingError(e);
            throw; // not reached
        }
    }
}
