using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace VecMigrate.Engine.Http;

/// <summary>
/// The HTTP layer the vendor clients share: one HttpClient, a timeout per attempt, and bounded retries
/// of transient failures (<see cref="RetryPolicy"/>), each retry logged as a warning. It is the only retry loop
/// of a call: the clients read answers inside it, so that a broken body and a refused connection count alike. It returns the final answer,
/// whatever its status, for the client to turn into a typed result or a specific error.
/// </summary>
public sealed class RestTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpClient _plain;
    private readonly bool _ownsClient;
    private readonly ILogger _logger;

    /// <param name="retry">How transient failures are retried (the default policy when null).</param>
    /// <param name="timeout">How long one attempt may take, answer body included.</param>
    /// <param name="logger">Where retries and failures are logged.</param>
    /// <param name="handler">The HTTP handler to send through (tests); a pooled SocketsHttpHandler when null.</param>
    /// <param name="firstContact">Retries of a refused connection until a server has answered (see <see cref="FirstContact"/>).</param>
    public RestTransport(RetryPolicy? retry = null, TimeSpan? timeout = null, ILogger? logger = null, HttpMessageHandler? handler = null,
        RetryPolicy? firstContact = null)
    {
        Retry = retry ?? RetryPolicy.Default;
        FirstContact = firstContact ?? (Retry.MaxAttempts < RetryPolicy.FirstContact.MaxAttempts ? Retry : RetryPolicy.FirstContact);
        Timeout = timeout ?? TimeSpan.FromSeconds(100);
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _http = handler is null ? new HttpClient(MakeHandler(DecompressionMethods.GZip | DecompressionMethods.Deflate)) : new HttpClient(handler, disposeHandler: false);
        _plain = handler is null ? new HttpClient(MakeHandler(DecompressionMethods.None)) : _http;
        _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan; // per attempt, below
        if (!ReferenceEquals(_plain, _http)) _plain.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        _ownsClient = true;
    }

    private static SocketsHttpHandler MakeHandler(DecompressionMethods decompression) => new()
    {
        AutomaticDecompression = decompression,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // HTTP/2 (Qdrant's gRPC): a stream may take a whole scroll answer (a megabyte or more) without waiting
        // for window updates; the runtime's default starts at 64 KB and grows only with measured delay.
        InitialHttp2StreamWindowSize = 4 * 1024 * 1024,
    };

    public RetryPolicy Retry { get; }

    /// <summary>
    /// The retries of a refused connection before any server has answered on this transport: a person is waiting for
    /// the first answer, and a wrong url or a server that is not running should say so in seconds.
    /// </summary>
    public RetryPolicy FirstContact { get; }

    private volatile bool _answered;

    public TimeSpan Timeout { get; }

    public ILogger Logger => _logger;

    /// <summary>
    /// Sends the request made by <paramref name="makeRequest"/> (called again for each attempt),
    /// retrying transient failures. The response is returned with its body buffered only as far as
    /// <paramref name="completion"/> says; the caller disposes it.
    /// </summary>
    /// <param name="makeRequest">Makes the request, once per attempt.</param>
    /// <param name="cancellationToken">Stops the call and its retries.</param>
    /// <param name="completion">How much of the answer to read before returning.</param>
    /// <param name="errorPrefix">The start of error ids, e.g. "Qdrant".</param>
    /// <param name="what">What the call is for, for log lines and errors (never holds a secret).</param>
    /// <param name="compressed">Whether to ask for (and undo) gzip/deflate answers. Off for a server on the same
    /// network whose answers are large: compressing them costs both sides more than carrying them.</param>
    /// <param name="replayable">False for a request that must not arrive twice (see the overload).</param>
    public Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> makeRequest, string what, string errorPrefix,
        CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, bool compressed = true, bool replayable = true) =>
        SendAsync(makeRequest, what, errorPrefix, static (response, _) => Task.FromResult(response), cancellationToken, completion, compressed, disposeResponse: false, replayable);

    /// <summary>
    /// One call, one retry loop: sends the request made by <paramref name="makeRequest"/> and hands the answer, its
    /// body not yet read, to <paramref name="answer"/> (which reads it, and turns a failure status into an error).
    /// A refused or broken connection, a transient status, an attempt slower than <see cref="Timeout"/> (its body
    /// included) and an answer that breaks off while <paramref name="answer"/> reads it all count against the same
    /// attempts of <see cref="Retry"/>: nothing else retries around this. Until some server has answered on this
    /// transport, a refused connection is retried by <see cref="FirstContact"/> only, so that a wrong url fails in
    /// seconds. A retry that waits is logged as a warning. A request that must not be sent twice
    /// (<paramref name="replayable"/> false: an insert that gives rows new ids) is retried only where the server certainly
    /// did not take it: a refused connection, or an answer that says so (429, 503); a timeout, a connection that breaks
    /// once the request is out, or an answer that breaks off ends the call at once.
    /// </summary>
    public async Task<T> SendAsync<T>(Func<HttpRequestMessage> makeRequest, string what, string errorPrefix,
        Func<HttpResponseMessage, CancellationToken, Task<T>> answer, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead, bool compressed = true, bool disposeResponse = true, bool replayable = true)
    {
        var ambiguousAttempts = replayable ? Retry.MaxAttempts : 1;
        var http = compressed ? _http : _plain;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            using var request = makeRequest();
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutCts.CancelAfter(Timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, completion, timeoutCts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt >= ambiguousAttempts)
                {
                    throw new VecMigrateException(FailureKind.Timeout, errorPrefix + "Timeout",
                        $"{what}: no answer from {Describe(request)} within {Timeout.TotalSeconds:0.#} s, {attempt} attempt(s).", Describe(request));
                }
                await WaitAsync(attempt, null, what, "timed out", cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException ex)
            {
                var unsent = ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
                var policy = !_answered && unsent ? FirstContact : Retry;
                if (attempt >= (unsent ? policy.MaxAttempts : Math.Min(policy.MaxAttempts, ambiguousAttempts)))
                {
                    throw new VecMigrateException(FailureKind.Unreachable, errorPrefix + "Unreachable",
                        $"{what}: cannot reach {Describe(request)} ({attempt} attempt(s) in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.#} s): {ex.Message}",
                        Describe(request), ex);
                }
                await WaitAsync(attempt, null, what, ex.Message, cancellationToken, policy).ConfigureAwait(false);
                continue;
            }
            _answered = true;

            if (RetryPolicy.IsTransient(response.StatusCode) && attempt < Retry.MaxAttempts
                && (replayable || response.StatusCode is System.Net.HttpStatusCode.TooManyRequests or System.Net.HttpStatusCode.ServiceUnavailable))
            {
                var retryAfter = RetryAfter(response.Headers.RetryAfter);
                var status = (int)response.StatusCode;
                response.Dispose();
                await WaitAsync(attempt, retryAfter, what, $"HTTP {status}", cancellationToken).ConfigureAwait(false);
                continue;
            }
            try
            {
                return await answer(response, timeoutCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException)
            {
                // The answer broke off or ran out of time while being read: ask again (reads and upserts by id are idempotent).
                var reason = ex is OperationCanceledException ? $"no complete answer within {Timeout.TotalSeconds:0.#} s" : ex.Message;
                if (attempt >= ambiguousAttempts)
                {
                    throw ex is OperationCanceledException
                        ? new VecMigrateException(FailureKind.Timeout, errorPrefix + "Timeout", $"{what}: {reason} from {Describe(request)}, {attempt} attempt(s).", Describe(request), ex)
                        : new VecMigrateException(FailureKind.Unreachable, errorPrefix + "Unreachable", $"{what}: the answer from {Describe(request)} broke off, {attempt} attempt(s): {reason}", Describe(request), ex);
                }
                await WaitAsync(attempt, null, what, "the answer broke off: " + reason, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (disposeResponse) response.Dispose();
            }
        }
    }

    private async Task WaitAsync(int attempt, TimeSpan? retryAfter, string what, string reason, CancellationToken ct, RetryPolicy? policy = null)
    {
        policy ??= Retry;
        var delay = policy.DelayFor(attempt, retryAfter);
        Log.Retrying(_logger, what, reason, attempt, policy.MaxAttempts, delay.TotalMilliseconds);
        await Task.Delay(delay, ct).ConfigureAwait(false);
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header is null) return null;
        if (header.Delta is { } d) return d;
        if (header.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    /// <summary>The request's scheme, host, port and path: never its query's secrets or headers.</summary>
    public static string Describe(HttpRequestMessage request) =>
        request.RequestUri is null ? "(no url)" : request.RequestUri.GetLeftPart(UriPartial.Path);

    public void Dispose()
    {
        if (!_ownsClient) return;
        _http.Dispose();
        if (!ReferenceEquals(_plain, _http)) _plain.Dispose();
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "{What}: {Reason}; attempt {Attempt} of {Max}, retrying in {DelayMs:0} ms")]
    public static partial void Retrying(ILogger logger, string what, string reason, int attempt, int max, double delayMs);
}
