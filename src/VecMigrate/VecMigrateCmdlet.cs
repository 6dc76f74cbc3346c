using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;
using System.Security;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Hosting;

namespace VecMigrate;

/// <summary>
/// The base of every VecMigrate cmdlet: runs engine work on the thread pool while this thread
/// writes its output, turns engine failures into error records, engine logs into Verbose and
/// Debug, Ctrl+C into cancellation, and parameters into engine credentials.
/// </summary>
/// <remarks>
/// PowerShell allows WriteObject, WriteError, WriteVerbose and the rest only on the pipeline
/// thread, and this thread must not block on async code while output waits; so engine work runs
/// in <see cref="RunAsync"/>, <see cref="WriteAll{T}"/> or <see cref="Await{T}"/>, which pump what it
/// writes back here. Members are <c>private protected</c>: only this assembly's cmdlets derive.
/// </remarks>
public abstract partial class VecMigrateCmdlet : PSCmdlet, IDisposable
{
    private static int _lastActivityId;

    private readonly CancellationTokenSource _stop = new();
    private readonly int _activityId = Interlocked.Increment(ref _lastActivityId);
    private readonly PipelinePump _pump;
    private PipelineLoggerFactory? _logging;
    private bool _disposed;

    protected VecMigrateCmdlet()
    {
        // Made up front, not on first use: engine loggers reach it from other threads.
        _pump = new PipelinePump(reportDropped: count => WriteVerbose($"{count} engine log messages were dropped while the pipeline was busy."));
    }

    private protected static SecretRedactor Redactor => SecretRedactor.Shared;

    /// <summary>Cancelled when the pipeline stops (Ctrl+C, or a downstream Select-Object -First).</summary>
    private protected CancellationToken StopToken => _stop.Token;

    private PipelinePump Pump => _pump;

    /// <summary>
    /// Loggers for engine objects. Warnings arrive as Warning, Information as Verbose, Debug and Trace as
    /// Debug, written while this cmdlet pumps (during RunAsync, WriteAll, Await). Levels that the
    /// caller's -Verbose/-Debug and preference variables would hide are not produced at all.
    /// First use must be on the pipeline thread (it reads those preferences).
    /// </summary>
    private protected ILoggerFactory LoggerFactory => _logging ??= new PipelineLoggerFactory(LogThreshold(), PostLog, Redactor);

    protected override void StopProcessing()
    {
        // Called on another thread, possibly while or after the pipeline disposes us.
        _stop.CancelQuietly(); // a library's cancellation callback that throws must not turn Ctrl+C into an error
    }

    // ---- running engine work -------------------------------------------------------------

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool and, until it ends, writes here what it
    /// sends through the <see cref="PipelineWriter"/>. A failure of the work becomes a terminating
    /// error once everything written before it has been written.
    /// </summary>
    private protected void RunAsync(Func<PipelineWriter, CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var token = _stop.Token;
        var writer = new PipelineWriter(this, Pump, token);
        PumpUntilDone(Task.Run(() => work(writer, token), CancellationToken.None));
    }

    /// <summary>Most objects <see cref="WriteAll"/> hands the pipeline thread at once (the pump holds 64 such bunches).</summary>
    private const int WriteBunch = 32;

    /// <summary>Writes every item of an engine source to the pipeline, as it arrives.</summary>
    /// <param name="source">The engine's records (or any items), read on the thread pool.</param>
    /// <param name="progress">When given, advanced per item and completed at the end.</param>
    private protected void WriteAll<T>(IAsyncEnumerable<T> source, ProgressMeter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        RunAsync(async (writer, token) =>
        {
            // Objects go to the pipeline thread in bunches of up to WriteBunch while the source has them ready, and
            // at once when it has to wait: a record a time would wake that thread (and switch threads) per record.
            var bunch = new List<T>(WriteBunch);
            async ValueTask FlushAsync()
            {
                if (bunch.Count == 0) return;
                var items = bunch.ToArray();
                bunch.Clear();
                await writer.WriteObjectsAsync(items).ConfigureAwait(false);
                if (progress is not null) writer.AdvanceProgress(progress, items.Length);
            }
            try
            {
                await using var e = source.GetAsyncEnumerator(token);
                while (true)
                {
                    var next = e.MoveNextAsync();
                    if (!next.IsCompleted)
                    {
                        try
                        {
                            await FlushAsync().ConfigureAwait(false);
                        }
                        catch
                        {
                            // The source cannot be disposed while it is fetching: let that end first (its own
                            // failure, if any, matters less than the one that stopped the writing).
                            try
                            {
                                await next.ConfigureAwait(false);
                            }
                            catch (Exception)
                            {
                            }
                            throw;
                        }
                    }
                    if (!await next.ConfigureAwait(false)) break;
                    bunch.Add(e.Current);
                    if (bunch.Count == WriteBunch) await FlushAsync().ConfigureAwait(false);
                }
                await FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                if (progress is not null) writer.CompleteProgress(progress);
            }
        });
    }

    /// <summary>Calls one async engine method and returns its result, writing its log messages meanwhile.</summary>
    private protected T Await<T>(Func<CancellationToken, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var token = _stop.Token;
        var task = Task.Run(() => call(token), CancellationToken.None);
        PumpUntilDone(task);
        return task.Result; // PumpUntilDone returns only when the task succeeded
    }

    /// <inheritdoc cref="Await{T}"/>
    private protected void Await(Func<CancellationToken, Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var token = _stop.Token;
        PumpUntilDone(Task.Run(() => call(token), CancellationToken.None));
    }

    /// <summary>
    /// Writes here, without waiting, whatever engine work running in the background has queued (log lines,
    /// progress, output): for cmdlets whose engine work outlives one call, such as a writer fed record by record.
    /// </summary>
    private protected void WritePending() => Pump.Run(Task.CompletedTask, Cancel);

    private void PumpUntilDone(Task task)
    {
        // PowerShell's own exceptions raised here (pipeline stopping, -ErrorAction Stop) pass
        // through unchanged: PowerShell needs them as they are.
        Pump.Run(task, Cancel);
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e)
        {
            ThrowTerminatingError(e);
        }
    }

    private void Cancel() => StopProcessing();

    // ---- errors --------------------------------------------------------------------------

    /// <summary>The error record for any exception, engine or not, with secrets masked.</summary>
    internal ErrorRecord ToErrorRecord(Exception exception) => ErrorRecords.From(exception, Redactor);

    /// <summary>Reports a failure that concerns one item (a bad record) and lets the command go on.</summary>
    private protected void WriteError(Exception exception) => WriteError(ToErrorRecord(exception));

    /// <summary>The same, naming <paramref name="target"/> (the input object) as the error's target.</summary>
    private protected void WriteError(Exception exception, object? target) => WriteError(ErrorRecords.From(exception, Redactor, target));

    /// <summary>Ends the command with the error record for <paramref name="exception"/>.</summary>
    [DoesNotReturn]
    private protected void ThrowTerminatingError(Exception exception)
    {
        ThrowTerminatingError(ToErrorRecord(exception));
        throw new System.Diagnostics.UnreachableException();
    }

    // ---- progress ------------------------------------------------------------------------

    /// <summary>Shows a progress update on the pipeline thread (one activity per cmdlet instance).</summary>
    private protected void WriteProgress(ProgressSnapshot snapshot) => WriteProgress(ToProgressRecord(snapshot));

    internal ProgressRecord ToProgressRecord(ProgressSnapshot snapshot) => new(_activityId, snapshot.Activity, snapshot.Status)
    {
        PercentComplete = snapshot.PercentComplete,
        SecondsRemaining = snapshot.SecondsRemaining,
        RecordType = snapshot.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
    };

    // ---- credentials ---------------------------------------------------------------------

    /// <summary>
    /// The API key from <c>-ApiKey</c>, else from <paramref name="environmentVariable"/>
    /// (<see cref="Secrets.PineconeApiKeyVariable"/>, <see cref="Secrets.QdrantApiKeyVariable"/>);
    /// null when neither is set.
    /// </summary>
    private protected static ApiSecret? ResolveApiKey(SecureString? apiKey, string environmentVariable) =>
        Secrets.FromParameterOrEnvironment(apiKey, environmentVariable, Redactor);

    /// <summary>The same, for a key given as the password of a credential (Get-AutomationPSCredential).</summary>
    private protected static ApiSecret? ResolveApiKey(PSCredential? credential, string environmentVariable) =>
        ResolveApiKey(credential?.Password, environmentVariable);

    /// <summary>
    /// Postgres connection settings from <c>-ConnectionString</c> (key=value or postgres:// URI;
    /// PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD fill what it leaves out) and an optional
    /// <c>-Credential</c>, whose user and password win over the connection string's. Invalid input
    /// ends the command with a terminating error that shows no part of the password.
    /// </summary>
    private protected PgConnectionSettings ResolvePgConnection(string? connectionString, PSCredential? credential,
        PgAzureAuthentication azure = PgAzureAuthentication.None, string? azureClientId = null)
    {
        if (credential == PSCredential.Empty) credential = null;
        Redactor.Register(Environment.GetEnvironmentVariable("PGPASSWORD"));
        try
        {
            var password = Secrets.FromSecureString(credential?.Password, Redactor);
            // With an Entra ID token as the password, a credential gives the role's name only (its password is empty).
            if (azure != PgAzureAuthentication.None && password is { } p && p.Reveal().Length == 0) password = null;
            var settings = PgConnectionFactory.Create(connectionString, credential?.UserName, password, azure: azure, azureClientId: azureClientId);
            Redactor.Register(settings.Password?.Reveal());
            return settings;
        }
        catch (VecMigrateException e)
        {
            ThrowTerminatingError(e);
            throw; // not reached: ThrowTerminatingError does not return
        }
    }

    // ---- logging -------------------------------------------------------------------------

    // Warnings (a retry that waits, a reconnect) are PowerShell warnings: a person sees why nothing moves.
    private void PostLog(LogLevel level, string text) =>
        Pump.TryPostMessage(level >= LogLevel.Warning ? () => WriteWarning(text)
            : level >= LogLevel.Information ? () => WriteVerbose(text) : () => WriteDebug(text));

    private LogLevel LogThreshold()
    {
        if (IsShown("Debug", "DebugPreference")) return LogLevel.Trace;
        if (IsShown("Verbose", "VerbosePreference")) return LogLevel.Information;
        return LogLevel.Warning; // WriteWarning itself honours -WarningAction and $WarningPreference
    }

    /// <summary>
    /// ShouldProcess by its own rules (-WhatIf, -Confirm, $ConfirmPreference against the cmdlet's ConfirmImpact, which
    /// is that of its usual operation); then, when the operation <paramref name="destroys"/> data (a TRUNCATE, a
    /// removed checkpoint), ShouldContinue unless <paramref name="force"/>: PowerShell's own pattern for the dangerous
    /// part of a command, which a runbook (non-interactive) passes only with -Force. An explicit -Confirm:$false is
    /// the user's answer given beforehand (as dbatools and the SqlServer module take it), so it passes as -Force does.
    /// </summary>
    private protected bool ShouldWrite(string plan, string caption, bool destroys, bool force)
    {
        if (!ShouldProcess(plan, plan + Environment.NewLine + "Continue?", caption)) return false;
        var answeredNo = MyInvocation.BoundParameters.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: false };
        return !destroys || force || answeredNo || ShouldContinue(plan + Environment.NewLine + "This deletes data. Continue?", caption);
    }

    // -Verbose:$false wins over the preference variable, as in PowerShell itself.
    private bool IsShown(string switchName, string preferenceVariable)
    {
        if (MyInvocation.BoundParameters.TryGetValue(switchName, out var bound) && bound is SwitchParameter s) return s.IsPresent;
        var preference = GetVariableValue(preferenceVariable)?.ToString();
        return preference is not null
            && !preference.Equals(nameof(ActionPreference.SilentlyContinue), StringComparison.OrdinalIgnoreCase)
            && !preference.Equals(nameof(ActionPreference.Ignore), StringComparison.OrdinalIgnoreCase);
    }

    // ---- lifetime ------------------------------------------------------------------------

    /// <summary>Called by PowerShell when the pipeline ends; releases the pump and the stop signal.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Derived cmdlets release their engine objects here, then call the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (!disposing) return;
        ReleaseWriting();
        _pump.Dispose();
        _logging?.Dispose();
        _stop.Dispose();
    }
}
