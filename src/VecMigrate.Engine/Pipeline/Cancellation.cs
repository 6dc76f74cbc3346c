namespace VecMigrate.Engine.Pipeline;

/// <summary>Stopping a run without letting a library's cancellation callback end the process.</summary>
/// <remarks>
/// Npgsql registers a callback on every token passed to it; when the token fires while a connection is
/// breaking, that callback can throw (seen in CI: a NullReferenceException inside Npgsql's
/// PerformUserCancellationUnsynchronized, raised from a timer thread, which ended the process).
/// <see cref="CancellationTokenSource.Cancel()"/> runs every callback and then rethrows what they threw as one
/// AggregateException; the callbacks have all run by then, so the stop has happened and the exception only
/// says a library was surprised by it. Cancel through here, and never with CancelAfter on a token
/// Npgsql sees (a timer thread has nobody to catch for it).
/// </remarks>
public static class Cancellation
{
    /// <summary>Cancels <paramref name="source"/>, running every registered callback; what a callback throws is swallowed.</summary>
    public static void CancelQuietly(this CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // Every callback ran (Cancel does not stop at the first one that throws); the token is cancelled.
        }
        catch (ObjectDisposedException)
        {
            // Stopped after the run had already finished and let go of its source.
        }
    }

    /// <summary>
    /// A source that <see cref="CancelQuietly"/>s itself after <paramref name="delay"/>, from a task
    /// rather than CancelAfter's timer callback.
    /// </summary>
    public static CancellationTokenSource After(TimeSpan delay)
    {
        var source = new CancellationTokenSource();
        _ = Task.Delay(delay).ContinueWith(_ => source.CancelQuietly(), TaskScheduler.Default);
        return source;
    }
}
