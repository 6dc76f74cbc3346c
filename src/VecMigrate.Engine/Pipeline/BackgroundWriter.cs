using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Runs a record sink on one background task, fed from the caller's thread through a bounded channel, so
/// that the sink's I/O (a COPY, an upload) overlaps the work of whatever produces the records. Built for
/// PowerShell, where records arrive one at a time on the pipeline thread, which alone may report errors:
/// that thread hands records over with <see cref="TryPost"/> (never waits), waits with <see cref="WaitAsync"/>
/// when the channel is full, and reports what the sink refused with <see cref="ReportRejected"/>.
/// </summary>
/// <remarks>
/// <para>A refused record (<see cref="RecordRejectedException"/>) pauses the sink until the caller has reported
/// it: if reporting throws (PowerShell's -ErrorAction Stop), the sink never writes past the refused record,
/// and disposing rolls back its open batch, as a writer on the caller's own thread would. Any other failure
/// stops the sink; every later call on the caller's side rethrows it.</para>
/// <para>Ending: <see cref="EndInput"/>, then <see cref="WaitAsync"/> and <see cref="ReportRejected"/> until
/// <see cref="IsDrained"/> (every record has reached the sink, refusals reported, the last batch not yet
/// committed), then <see cref="CompleteAsync"/> (commit, build indexes). Disposing without completing cancels
/// the sink and disposes it, which rolls back what it had not committed.</para>
/// </remarks>
public sealed class BackgroundWriter : IAsyncDisposable
{
    /// <summary>Records that may wait for the sink: enough to cover a commit, small enough to stay a few MB.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Channel<VectorRecord> _channel;
    private readonly ConcurrentQueue<RecordRejectedException> _rejected = new();
    private readonly CancellationTokenSource _cancel;
    private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<VectorRecord, CancellationToken, ValueTask> _write;
    private readonly Func<CancellationToken, Task> _complete;
    private readonly IAsyncDisposable? _sink;
    private readonly Task _consumer;
    private TaskCompletionSource _attention = NewSignal();
    private TaskCompletionSource? _resume;
    private volatile Exception? _failure;
    private volatile bool _inputEnded;
    private long _posted;
    private long _written;
    private bool _disposed;

    /// <param name="write">Writes one record; throws <see cref="RecordRejectedException"/> for a record it refuses and goes on.</param>
    /// <param name="complete">Finishes once every record is written (commits the open batch).</param>
    /// <param name="sink">Disposed, after the background task has ended, when this is disposed; may be null.</param>
    /// <param name="capacity">How many records may wait for the sink before <see cref="TryPost"/> says no.</param>
    /// <param name="cancellationToken">Stops the sink (Ctrl+C): what it had not committed is rolled back when disposed.</param>
    public BackgroundWriter(Func<VectorRecord, CancellationToken, ValueTask> write, Func<CancellationToken, Task> complete,
        IAsyncDisposable? sink = null, int capacity = DefaultCapacity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(complete);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _write = write;
        _complete = complete;
        _sink = sink;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One reader (the task below); the writer side is also completed by that task when the sink fails.
        _channel = Channel.CreateBounded<VectorRecord>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _consumer = Task.Run(ConsumeAsync, CancellationToken.None);
    }

    /// <summary>Records handed over so far.</summary>
    public long Posted => Interlocked.Read(ref _posted);

    /// <summary>Records the sink has taken (not refused): committed, or in its open batch.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The failure that stopped the sink, if any.</summary>
    public Exception? Failure => _failure;

    /// <summary>True once, after <see cref="EndInput"/>, every record has reached the sink and no refusal waits to be reported.</summary>
    public bool IsDrained => _drained.Task.IsCompleted && _rejected.IsEmpty;

    /// <summary>
    /// Hands a record to the sink without waiting: false when the channel is full (then <see cref="WaitAsync"/>,
    /// <see cref="ReportRejected"/> and try again). Throws the sink's failure once it has failed.
    /// </summary>
    public bool TryPost(VectorRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_inputEnded) throw new InvalidOperationException("The input has ended: no more records can be posted.");
        ThrowIfFailed();
        if (!_channel.Writer.TryWrite(record))
        {
            ThrowIfFailed(); // the channel may have closed because the sink just failed
            return false;
        }
        Interlocked.Increment(ref _posted);
        return true;
    }

    /// <summary>
    /// Waits until there is something to do: room in the channel (until the input has ended), a refusal to
    /// report, the sink drained, or failed (then throws its failure).
    /// </summary>
    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        var attention = Volatile.Read(ref _attention).Task; // read before looking, so a signal after the look wakes us
        ThrowIfFailed();
        if (!_rejected.IsEmpty || _drained.Task.IsCompleted) return;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = new List<Task> { attention, _drained.Task };
        if (!_inputEnded) waits.Add(_channel.Writer.WaitToWriteAsync(stop.Token).AsTask());
        try
        {
            await Task.WhenAny(waits).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stop.Cancel(); // abandons the wait for room, if it is still pending
        }
        ThrowIfFailed();
    }

    /// <summary>
    /// Passes each refusal the sink reported to <paramref name="report"/> (on the caller's thread), then lets the
    /// sink go on. If <paramref name="report"/> throws, the sink stays paused at the refused record.
    /// </summary>
    /// <returns>How many refusals were reported.</returns>
    public int ReportRejected(Action<RecordRejectedException> report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var count = 0;
        while (_rejected.TryDequeue(out var rejected))
        {
            report(rejected);
            count++;
        }
        if (count > 0) Volatile.Read(ref _resume)?.TrySetResult();
        return count;
    }

    /// <summary>Says no more records will come.</summary>
    public void EndInput()
    {
        _inputEnded = true;
        _channel.Writer.TryComplete();
    }

    /// <summary>Lets the drained sink finish (commit the open batch, and whatever else it does at the end); throws its failure.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (!IsDrained) throw new InvalidOperationException("End the input and report every refusal before completing.");
        ThrowIfFailed();
        _finish.TrySetResult();
        await _consumer.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
    }

    private async Task ConsumeAsync()
    {
        var token = _cancel.Token;
        try
        {
            try
            {
                await foreach (var record in _channel.Reader.ReadAllAsync(token).ConfigureAwait(false))
                {
                    try
                    {
                        await _write(record, token).ConfigureAwait(false);
                        Interlocked.Increment(ref _written);
                    }
                    catch (RecordRejectedException rejected)
                    {
                        // Wait until the caller has reported it: reporting may stop the whole command.
                        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        Volatile.Write(ref _resume, resume);
                        _rejected.Enqueue(rejected);
                        Signal();
                        await resume.Task.WaitAsync(token).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                _drained.TrySetResult();
                Signal();
            }
            await _finish.Task.WaitAsync(token).ConfigureAwait(false);
            await _complete(token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failure = e;
            // Wake a caller waiting for room or attention; later calls see the failure.
            _channel.Writer.TryComplete();
            Signal();
        }
    }

    private void Signal() => Interlocked.Exchange(ref _attention, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void ThrowIfFailed()
    {
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    /// <summary>Stops the sink if it is still running, waits for it, then disposes it (rolling back what it had not committed).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_consumer.IsCompleted) _cancel.Cancel();
        _channel.Writer.TryComplete();
        try
        {
            await _consumer.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its failure is in Failure; disposing must not throw.
        }
        if (_sink is not null) await _sink.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
