using System.Management.Automation;
using VecMigrate.Hosting;

namespace VecMigrate;

/// <summary>
/// What engine work running in <see cref="VecMigrateCmdlet"/>'s RunAsync uses instead of the
/// cmdlet's Write methods, from any thread. Output and errors wait when the pipeline is
/// <see cref="PipelinePump.Capacity"/> items behind; messages and progress never wait.
/// </summary>
internal sealed class PipelineWriter
{
    private readonly VecMigrateCmdlet _cmdlet;
    private readonly PipelinePump _pump;

    internal PipelineWriter(VecMigrateCmdlet cmdlet, PipelinePump pump, CancellationToken cancellationToken)
    {
        _cmdlet = cmdlet;
        _pump = pump;
        CancellationToken = cancellationToken;
    }

    /// <summary>Cancelled when the pipeline stops.</summary>
    public CancellationToken CancellationToken { get; }

    public ValueTask WriteObjectAsync(object? value) =>
        _pump.PostAsync(() => _cmdlet.WriteObject(value), CancellationToken);

    /// <summary>Several objects in one trip to the pipeline thread (one wake-up instead of one each).</summary>
    public ValueTask WriteObjectsAsync<T>(T[] values) =>
        _pump.PostAsync(() =>
        {
            foreach (var v in values) _cmdlet.WriteObject(v);
        }, CancellationToken);

    /// <summary>
    /// A non-terminating error (a rejected record), returning once it is written, in order with the output: the
    /// command goes on unless -ErrorAction Stop, which makes this throw (the pipeline stops).
    /// </summary>
    public async ValueTask WriteErrorAsync(Exception exception) =>
        await _pump.InvokeAsync(() =>
        {
            _cmdlet.WriteError(_cmdlet.ToErrorRecord(exception));
            return true;
        }, CancellationToken).ConfigureAwait(false);

    public void WriteVerbose(string text)
    {
        var safe = SecretRedactor.Shared.Redact(text);
        _pump.TryPostMessage(() => _cmdlet.WriteVerbose(safe));
    }

    public void WriteDebug(string text)
    {
        var safe = SecretRedactor.Shared.Redact(text);
        _pump.TryPostMessage(() => _cmdlet.WriteDebug(safe));
    }

    public void WriteWarning(string text)
    {
        var safe = SecretRedactor.Shared.Redact(text);
        _pump.TryPostMessage(() => _cmdlet.WriteWarning(safe));
    }

    /// <summary>Counts records; shows an update when the meter's interval has passed.</summary>
    public void AdvanceProgress(ProgressMeter meter, long records)
    {
        if (meter.Advance(records, out var snapshot)) PostProgress(snapshot);
    }

    /// <summary>Closes the progress bar.</summary>
    public void CompleteProgress(ProgressMeter meter) => PostProgress(meter.Complete());

    private void PostProgress(ProgressSnapshot snapshot)
    {
        var record = _cmdlet.ToProgressRecord(snapshot);
        _pump.PostProgress(() => _cmdlet.WriteProgress(record));
    }

    /// <summary>Asks -WhatIf/-Confirm on the pipeline thread.</summary>
    public ValueTask<bool> ShouldProcessAsync(string target, string action) =>
        _pump.InvokeAsync(() => _cmdlet.ShouldProcess(target, action), CancellationToken);

    /// <summary>Runs anything else that must happen on the pipeline thread and returns its result.</summary>
    public ValueTask<T> InvokeAsync<T>(Func<T> func) => _pump.InvokeAsync(func, CancellationToken);
}
