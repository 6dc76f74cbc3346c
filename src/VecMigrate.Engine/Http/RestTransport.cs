using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace VecMigrate.Engine.Http;

/// <summary>
/// The HTTP layer the vendor clients share: one HttpClient, a timeout per attempt, and bounded retries
/// of transient failures (<see cref="RetryPolicy"/>), each retry logged. It returns the final answer,
/// whatever its status, for the client to turn into a typed result or a specific error.
/// </summary>
public sealed class RestTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpClient _plain;
    private readonly bool _ownsClient;
    private readonly ILogger _logger;

    /// <param name="timeout">How long one attempt may take, answer body included.</param>
    public RestTransport(RetryPolicy? retry = null, TimeSpan? timeout = null, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        Retry = retry ?? RetryPolicy.Default;
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

    public TimeSpan Timeout { get; }

    public ILogger Logger => _logger;

    /// <summary>
    /// Sends the request made by <paramref name="makeRequest"/> (called again for each attempt),
    /// retrying transient failures. The response is returned with its body buffered only as far as
    /// <paramref name="completion"/> says; the caller disposes it.
    /// </summary>
    /// <param name="completion">How much of the answer to read before returning.</param>
    /// <param name="errorPrefix">The start of error ids, e.g. "Qdrant".</param>
    /// <param name="what">What the call is for, for log lines and errors (never holds a secret).</param>
    /// <param name="compressed">Whether to ask for (and undo) gzip/deflate answers. Off for a server on the same
    /// network whose answers are large: compressing them costs both sides more than carrying them.</param>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> makeRequest, string what, string errorPrefix,
        CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, bool compressed = true)
    {
        var http = compressed ? _http : _plain;
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
                if (attempt >= Retry.MaxAttempts)
                {
                    throw new VecMigrateException(FailureKind.Timeout, errorPrefix + "Timeout",
                        $"{what}: no answer within {Timeout.TotalSeconds:0.#} s after {attempt} attempt(s).", Describe(request));
                }
                await WaitAsync(attempt, null, what, "timed out", cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException ex)
            {
                if (attempt >= Retry.MaxAttempts)
                {
                    throw new VecMigrateException(FailureKind.Unreachable, errorPrefix + "Unreachable",
                        $"{what}: cannot reach {Describe(request)} after {attempt} attempt(s): {ex.Message}", Describe(request), ex);
                }
                await WaitAsync(attempt, null, what, ex.Message, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (RetryPolicy.IsTransient(response.StatusCode) && attempt < Retry.MaxAttempts)
            {
                var retryAfter = RetryAfter(response.Headers.RetryAfter);
                var status = (int)response.StatusCode;
                response.Dispose();
                await WaitAsync(attempt, retryAfter, what, $"HTTP {status}", cancellationToken).ConfigureAwait(false);
                continue;
            }
            return response;
        }
    }

    private async Task WaitAsync(int attempt, TimeSpan? retryAfter, string what, string reason, CancellationToken ct)
    {
        var delay = Retry.DelayFor(attempt, retryAfter);
        Log.Retrying(_logger, what, reason, attempt, Retry.MaxAttempts, delay.TotalMilliseconds);
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
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "{What}: {Reason}; attempt {Attempt} of {Max}, retrying in {DelayMs:0} ms")]
    public static partial void Retrying(ILogger logger, string what, string reason, int attempt, int max, double delayMs);
}
