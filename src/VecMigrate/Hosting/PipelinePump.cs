using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Hosting;

/// <summary>
/// Carries work from background threads to the one thread that may write to the PowerShell
/// pipeline, which calls <see cref="Run"/> and runs it there.
/// </summary>
/// <remarks>
/// Three lanes, drained in this order each time the pipeline thread wakes:
/// <list type="bullet">
/// <item>messages (verbose, debug, warning, log lines): never block the sender; past
/// <c>messageCapacity</c> they are dropped and counted, so a chatty engine cannot stall;</item>
/// <item>progress: only the newest update is kept;</item>
/// <item>output (objects, errors, calls that need the pipeline thread): bounded, so a producer that
/// gets <see cref="Capacity"/> items ahead of a slow downstream command waits, and memory stays flat.</item>
/// </list>
/// Knows nothing of PowerShell, so it is tested without a PowerShell runtime.
/// </remarks>
internal sealed class PipelinePump : IDisposable
{
    public const int DefaultCapacity = 64;
    public const int DefaultMessageCapacity = 4096;

    private readonly object _gate = new();
    private readonly Queue<Action> _output = new();
    private readonly Queue<Action> _messages = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _closing = new();
    private readonly int _messageCapacity;
    private readonly Action<long>? _reportDropped;
    private Action? _progress;
    private long _dropped;
    private bool _closed;
    private bool _running;

    /// <param name="capacity">How many output items may wait for the pipeline thread.</param>
    /// <param name="messageCapacity">How many messages may wait before new ones are dropped.</param>
    /// <param name="reportDropped">Runs on the pipeline thread with the number of messages dropped.</param>
    public PipelinePump(int capacity = DefaultCapacity, int messageCapacity = DefaultMessageCapacity, Action<long>? reportDropped = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(messageCapacity, 1);
        Capacity = capacity;
        _slots = new SemaphoreSlim(capacity);
        _messageCapacity = messageCapacity;
        _reportDropped = reportDropped;
    }

    public int Capacity { get; }

    /// <summary>True once the pipeline thread has stopped taking work; posts then fail or are dropped.</summary>
    public bool IsClosed
    {
        get { lock (_gate) return _closed; }
    }

    /// <summary>
    /// Queues an action for the pipeline thread, waiting while <see cref="Capacity"/> are already
    /// queued. Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/>
    /// is cancelled or the pump is closed.
    /// </summary>
    public ValueTask PostAsync(Action action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        cancellationToken.ThrowIfCancellationRequested();
        if (_slots.Wait(0))
        {
            Enqueue(action);
            return ValueTask.CompletedTask;
        }
        return PostWhenFreeAsync(action, cancellationToken);
    }

    private async ValueTask PostWhenFreeAsync(Action action, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        await _slots.WaitAsync(either.Token).ConfigureAwait(false);
        Enqueue(action);
    }

    private void Enqueue(Action action)
    {
        lock (_gate)
        {
            if (_closed)
            {
                _slots.Release();
                throw Closed();
            }
            _output.Enqueue(action);
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// Runs <paramref name="func"/> on the pipeline thread, in order with the output lane, and
    /// returns its result (for ShouldProcess and anything else that must ask PowerShell).
    /// </summary>
    public async ValueTask<T> InvokeAsync<T>(Func<T> func, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(func);
        // Continuations must not run on the pipeline thread: it has to go back to pumping.
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        using var registration = either.Token.Register(() => result.TrySetCanceled(either.Token));
        await PostAsync(() =>
        {
            try
            {
                result.TrySetResult(func());
            }
            catch (Exception e)
            {
                result.TrySetException(e);
                throw;
            }
        }, either.Token).ConfigureAwait(false);
        return await result.Task.ConfigureAwait(false);
    }

    /// <summary>Queues a message without ever waiting; false when it was dropped.</summary>
    public bool TryPostMessage(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (_closed) return false;
            if (_messages.Count >= _messageCapacity)
            {
                _dropped++;
                return false;
            }
            _messages.Enqueue(action);
            Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>Replaces any progress update not yet shown with this one; never waits.</summary>
    public void PostProgress(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (_closed) return;
            _progress = action;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// Runs queued actions on the calling thread until <paramref name="work"/> has finished and
    /// everything queued has run; the caller then looks at the work's outcome, so that output
    /// written before a failure is never lost. If an action throws (the pipeline is stopping, or
    /// -ErrorAction Stop turned an error into an exception), <paramref name="cancel"/> is called,
    /// then the pump closes, the work is waited for, and the action's exception is rethrown.
    /// </summary>
    public void Run(Task work, Action cancel)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(cancel);
        lock (_gate)
        {
            if (_running) throw new InvalidOperationException("The pump is already running on another call.");
            if (_closed) throw Closed();
            _running = true;
        }
        if (!work.IsCompleted)
        {
            work.ContinueWith(static (_, state) => ((PipelinePump)state!).Wake(), this,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var messages = new List<Action>();
        try
        {
            while (true)
            {
                Action? item = null;
                Action? progress;
                long dropped;
                lock (_gate)
                {
                    while (_output.Count == 0 && _messages.Count == 0 && _progress is null && _dropped == 0 && !work.IsCompleted)
                    {
                        Monitor.Wait(_gate);
                    }
                    while (_messages.Count > 0) messages.Add(_messages.Dequeue());
                    progress = _progress;
                    _progress = null;
                    dropped = _dropped;
                    _dropped = 0;
                    if (_output.Count > 0) item = _output.Dequeue();
                    else if (messages.Count == 0 && progress is null && dropped == 0) break; // work done, all drained
                }

                foreach (var message in messages) message();
                messages.Clear();
                if (dropped > 0) _reportDropped?.Invoke(dropped);
                progress?.Invoke();
                if (item is not null)
                {
                    try
                    {
                        item();
                    }
                    finally
                    {
                        _slots.Release();
                    }
                }
            }
        }
        catch
        {
            // Cancel first: a source whose post is refused by the closed pump must already see its token
            // cancelled, or it takes the refusal for a failure of its own (and a stop is not reported as one).
            cancel();
            Close();
            // The work must not outlive the command; its own failure is a consequence of ours.
            try { work.Wait(); } catch (Exception) { }
            throw;
        }
        finally
        {
            lock (_gate) _running = false;
        }
    }

    /// <summary>Stops taking work: queued items are discarded, waiting and later posts fail.</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _output.Clear();
            _messages.Clear();
            _progress = null;
            Monitor.PulseAll(_gate);
        }
        _closing.CancelQuietly();
    }

    private void Wake()
    {
        lock (_gate) Monitor.PulseAll(_gate);
    }

    private static OperationCanceledException Closed() =>
        new("The pipeline no longer takes output from this command.");

    public void Dispose()
    {
        Close();
        _closing.Dispose();
        _slots.Dispose();
    }
}
