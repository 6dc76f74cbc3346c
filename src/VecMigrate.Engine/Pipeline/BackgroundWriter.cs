using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Runs a <see cref="Migration"/> on one background task, its source fed from the caller's thread through a bounded
/// channel, so that the sink's I/O (a COPY, an upload) overlaps the work of whatever produces the records. It is how
/// the Write- cmdlets write: the same runner as Copy-VectorData (checkpoints, acknowledgements, refusals), with
/// records that arrive one at a time on PowerShell's pipeline thread, which alone may report errors. That thread
/// hands records over with <see cref="TryPost"/> (never waits), waits with <see cref="WaitAsync"/> when the channel is
/// full, and reports what the sink refused with <see cref="ReportRejected"/>.
/// </summary>
/// <remarks>
/// <para>A refused record (<see cref="RecordRejectedException"/>) pauses the run until the caller has reported it: if
/// reporting throws (PowerShell's -ErrorAction Stop), the sink never writes past the refused record, and disposing
/// rolls back its open batch. Any other failure stops the run; every later call on the caller's side rethrows it.</para>
/// <para>Ending: <see cref="EndInput"/>, then <see cref="WaitAsync"/> and <see cref="ReportRejected"/> until
/// <see cref="IsDone"/> (the run has committed everything, or failed: <see cref="WaitAsync"/> then throws). Disposing
/// before that cancels the run and disposes the sink, which rolls back what it had not committed.</para>
/// <para>Piped records cannot be read again, so a lost connection ends the run with the sink's own error (it says
/// which batch was rolled back); with a checkpoint, a later run resumes after the last committed record.</para>
/// </remarks>
public sealed class BackgroundWriter : IAsyncDisposable
{
    /// <summary>Records that may wait for the sink: enough to cover a commit, small enough to stay a few MB.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Channel<VectorRecord> _channel;
    private readonly ConcurrentQueue<RecordRejectedException> _rejected = new();
    private readonly CancellationTokenSource _cancel;
    private readonly IRecordSink _sink;
    private readonly Task _consumer;
    private TaskCompletionSource _attention = NewSignal();
    private TaskCompletionSource? _resume;
    private volatile Exception? _failure;
    private volatile bool _inputEnded;
    private long _posted;
    private bool _disposed;

    /// <param name="sink">Where the records go; disposed when this is.</param>
    /// <param name="source">What the records are, as a checkpoint records its source (<see cref="MigrationSource.DescribeOrigin"/> of the first).</param>
    /// <param name="options">Checkpoint, resume, checkpoint store and finishing work; its <see cref="MigrationOptions.OnRejected"/> is replaced (refusals come back through <see cref="ReportRejected"/>).</param>
    /// <param name="logger">The runner's log.</param>
    /// <param name="capacity">How many records may wait for the sink before <see cref="TryPost"/> says no.</param>
    /// <param name="cancellationToken">Stops the run (Ctrl+C): what it had not committed is rolled back when disposed.</param>
    public BackgroundWriter(IRecordSink sink, string source, MigrationOptions? options = null, ILogger? logger = null,
        int capacity = DefaultCapacity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _sink = sink;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One reader (the run); the writer side is also completed by the run's task when it fails.
        _channel = Channel.CreateBounded<VectorRecord>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        options ??= new MigrationOptions();
        var run = new MigrationOptions
        {
            Checkpoint = options.Checkpoint, Resume = options.Resume, CheckpointStore = options.CheckpointStore,
            Finish = options.Finish, Progress = options.Progress, MaxReconnects = 0, OnRejected = WaitUntilReportedAsync,
        };
        _consumer = Task.Run(() => ConsumeAsync(MigrationSource.Once(source, _channel.Reader.ReadAllAsync(_cancel.Token)), run, logger),
            CancellationToken.None);
    }

    /// <summary>Records handed over so far.</summary>
    public long Posted => Interlocked.Read(ref _posted);

    /// <summary>What the run did, once it has ended well; null before.</summary>
    public MigrationSummary? Summary { get; private set; }

    /// <summary>The failure that stopped the run, if any.</summary>
    public Exception? Failure => _failure;

    /// <summary>True once the run has ended (committed everything, or failed) and no refusal waits to be reported.</summary>
    public bool IsDone => _consumer.IsCompleted && _rejected.IsEmpty;

    /// <summary>
    /// Hands a record to the sink without waiting: false when the channel is full (then <see cref="WaitAsync"/>,
    /// <see cref="ReportRejected"/> and try again). Throws the run's failure once it has failed.
    /// </summary>
    public bool TryPost(VectorRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_inputEnded) throw new InvalidOperationException("The input has ended: no more records can be posted.");
        ThrowIfFailed();
        if (!_channel.Writer.TryWrite(record))
        {
            ThrowIfFailed(); // the channel may have closed because the run just failed
            return false;
        }
        Interlocked.Increment(ref _posted);
        return true;
    }

    /// <summary>
    /// Waits until there is something to do: room in the channel (until the input has ended), a refusal to
    /// report, the run ended, or failed (then throws its failure).
    /// </summary>
    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        var attention = Volatile.Read(ref _attention).Task; // read before looking, so a signal after the look wakes us
        ThrowIfFailed();
        if (!_rejected.IsEmpty || _consumer.IsCompleted) return;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waits = new List<Task> { attention, _consumer };
        if (!_inputEnded) waits.Add(_channel.Writer.WaitToWriteAsync(stop.Token).AsTask());
        try
        {
            await Task.WhenAny(waits).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stop.CancelQuietly(); // abandons the wait for room, if it is still pending
        }
        ThrowIfFailed();
    }

    /// <summary>
    /// Passes each refusal the sink reported to <paramref name="report"/> (on the caller's thread), then lets the
    /// run go on. If <paramref name="report"/> throws, the run stays paused at the refused record.
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

    /// <summary>Says no more records will come: the run commits what it has and ends.</summary>
    public void EndInput()
    {
        _inputEnded = true;
        _channel.Writer.TryComplete();
    }

    private async Task ConsumeAsync(MigrationSource source, MigrationOptions options, ILogger? logger)
    {
        var token = _cancel.Token;
        try
        {
            Summary = await Migration.RunAsync(source, _sink, options, logger, token).ConfigureAwait(false);
            // A checkpoint that was already complete reads nothing: let what is still piped in pass.
            while (await _channel.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (_channel.Reader.TryRead(out _))
                {
                }
            }
        }
        catch (Exception e)
        {
            _failure = e;
            // Wake a caller waiting for room or attention; later calls see the failure.
            _channel.Writer.TryComplete();
        }
        finally
        {
            Signal();
        }
    }

    /// <summary>The run's refusal handler: queue the refusal and wait until the caller has reported it (which may stop the run).</summary>
    private async ValueTask WaitUntilReportedAsync(RecordRejectedException rejected, CancellationToken token)
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _resume, resume);
        _rejected.Enqueue(rejected);
        Signal();
        await resume.Task.WaitAsync(token).ConfigureAwait(false);
    }

    private void Signal() => Interlocked.Exchange(ref _attention, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void ThrowIfFailed()
    {
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    /// <summary>Stops the run if it is still going, waits for it, then disposes the sink (rolling back what it had not committed).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_consumer.IsCompleted) _cancel.CancelQuietly();
        _channel.Writer.TryComplete();
        try
        {
            await _consumer.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its failure is in Failure; disposing must not throw.
        }
        await _sink.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
