using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Qdrant.Client.Grpc;
using VecMigrate.Engine.Http;
using RecordId = VecMigrate.Engine.Records.PointId;
using RecordIdKind = VecMigrate.Engine.Records.PointIdKind;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// The optional gRPC path (Qdrant's port 6334), through the official client's generated stubs
/// (<see cref="QdrantGrpcClient"/> from Qdrant.Client): with <see cref="GrpcUrl"/> set, scrolls go to
/// <c>qdrant.Points/Scroll</c>, where dense vectors travel as packed float32 instead of decimal text, upserts to
/// <c>qdrant.Points/Upsert</c>, and collections are listed, described and created through <c>qdrant.Collections</c>
/// (QdrantGrpcCollections.cs). Searches (Test-VectorMigration's Query API calls) and fetches by id stay REST. Non-OK statuses map to the same error ids as REST; UNAVAILABLE, RESOURCE_EXHAUSTED and
/// DEADLINE_EXCEEDED are retried under the transport's retry policy. The API key travels in the <c>api-key</c>
/// metadata entry only.
/// </summary>
public sealed partial class QdrantClient
{
    private readonly Uri? _grpcUrl;
    private readonly object _grpcGate = new();
    private GrpcChannel? _grpcChannel;
    private QdrantGrpcClient? _grpc;
    private (string Json, Filter Filter)? _grpcFilter;

    /// <summary>
    /// Qdrant's gRPC root (usually port 6334), or null (the default) to scroll over REST. <c>http</c> speaks HTTP/2
    /// without TLS (prior knowledge), <c>https</c> HTTP/2 over TLS. Credentials in the url are dropped; the API key
    /// travels in the <c>api-key</c> header as for REST. A filter given as REST JSON is translated to the gRPC
    /// filter (<see cref="QdrantGrpcFilter"/>).
    /// </summary>
    public Uri? GrpcUrl
    {
        get => _grpcUrl;
        init => _grpcUrl = value is null ? null : CleanUrl(value, nameof(GrpcUrl));
    }

    /// <summary>An absolute http(s) url without credentials, query or fragment, its path ending in a slash.</summary>
    private static Uri CleanUrl(Uri url, string parameter)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"A Qdrant url must be an absolute http or https url, not '{(url.IsAbsoluteUri ? url.GetLeftPart(UriPartial.Scheme) : "a relative url")}…'.", parameter);
        var clean = new UriBuilder(url) { UserName = "", Password = "", Query = "", Fragment = "" }.Uri;
        var path = clean.AbsolutePath.EndsWith('/') ? clean.AbsolutePath : clean.AbsolutePath + "/";
        return new UriBuilder(clean) { Path = path }.Uri;
    }

    /// <summary>The official client's stubs over one HTTP/2 channel, made on first use.</summary>
    private QdrantGrpcClient Grpc
    {
        get
        {
            lock (_grpcGate)
            {
                if (_grpc is not null) return _grpc;
                _grpcChannel = GrpcChannel.ForAddress(_grpcUrl!, new GrpcChannelOptions
                {
                    // A scroll page of 1,536-d vectors is far beyond gRPC's default 4 MB; Qdrant itself sends what
                    // was asked for (the page size bounds it).
                    MaxReceiveMessageSize = null,
                    MaxSendMessageSize = null,
                    // Retries are ours (one policy for REST and gRPC, logged alike), not the channel's.
                    MaxRetryAttempts = 0,
                    HttpHandler = new SocketsHttpHandler
                    {
                        EnableMultipleHttp2Connections = true,
                        AutomaticDecompression = DecompressionMethods.None,
                        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                        // A stream may take a whole scroll answer (a megabyte or more) without waiting for window
                        // updates; the runtime's default starts at 64 KB and grows only with measured delay. Measured
                        // on the benchmark's read stage (50,000 × 1,024-d): without it the read took ~75% more client CPU.
                        InitialHttp2StreamWindowSize = 4 * 1024 * 1024,
                    },
                    DisposeHttpClient = true,
                });
                return _grpc = new QdrantGrpcClient(_grpcChannel);
            }
        }
    }

    private void DisposeGrpc()
    {
        lock (_grpcGate)
        {
            _grpc?.Dispose();
            _grpcChannel?.Dispose();
            _grpc = null;
            _grpcChannel = null;
        }
    }

    private Metadata GrpcHeaders()
    {
        var headers = new Metadata();
        if (_apiKey is not null) headers.Add("api-key", _apiKey.Reveal());
        return headers;
    }

    private async Task<QdrantScrollPage> ScrollGrpcAsync(Uri grpcUrl, string collection, QdrantScrollRequest request, RecordStamp stamp,
        CancellationToken cancellationToken)
    {
        var message = new ScrollPoints
        {
            CollectionName = collection,
            Limit = (uint)request.Limit,
            WithPayload = QdrantGrpcRecords.PayloadSelector(request.WithPayload),
            WithVectors = QdrantGrpcRecords.VectorsSelector(request.WithVector),
        };
        if (request.Offset is { } offset) message.Offset = QdrantGrpcRecords.ToGrpc(offset);
        if (request.FilterJson is { } json)
        {
            // Made once per read: every page of a read carries the same filter (sending a message is read-only).
            var last = _grpcFilter;
            if (last is null || !string.Equals(last.Value.Json, json, StringComparison.Ordinal))
            {
                last = (json, QdrantGrpcFilter.FromJson(json, collection));
                _grpcFilter = last;
            }
            message.Filter = last.Value.Filter;
        }
        var what = $"Scrolling Qdrant collection '{collection}' over gRPC";
        var target = new Uri(grpcUrl, "qdrant.Points/Scroll").GetLeftPart(UriPartial.Path);
        var answer = await CallGrpcAsync(
            (headers, deadline, ct) => Grpc.Points.ScrollAsync(message, headers, deadline, ct),
            what, target, collection, cancellationToken).ConfigureAwait(false);
        return QdrantGrpcRecords.ReadPage(answer, stamp, request.WithPayload.Enabled,
            (m, inner) => InvalidResponse(what, target, m, inner));
    }

    /// <summary>
    /// <c>qdrant.Points/Upsert</c> of a body <see cref="QdrantSink"/> built for REST (the same batches, the same checks):
    /// the points inserted or replaced whole, answered once applied when <paramref name="wait"/>.
    /// </summary>
    private async Task<QdrantUpdateResult> UpsertGrpcAsync(Uri grpcUrl, string collection, ReadOnlyMemory<byte> body, bool wait, string what,
        CancellationToken cancellationToken)
    {
        var target = new Uri(grpcUrl, "qdrant.Points/Upsert").GetLeftPart(UriPartial.Path);
        var message = QdrantGrpcRecords.Upsert(collection, body.Span, wait, where => new VecMigrateException(FailureKind.InvalidArgument,
            "QdrantPayloadNumberUnsupported",
            $"{what}: {where} holds an integer beyond int64, which Qdrant's gRPC payload (int64 or double) cannot carry exactly; " +
            "nothing of this batch was sent. Write over REST (no gRPC url) to keep it.", target));
        var answer = await CallGrpcAsync(
            (headers, deadline, ct) => Grpc.Points.UpsertAsync(message, headers, deadline, ct),
            what, target, collection, cancellationToken).ConfigureAwait(false);
        var result = answer.Result ?? throw InvalidResponse(what, target, "the answer has no `result`", null);
        var status = result.Status switch
        {
            UpdateStatus.Completed => "completed",
            UpdateStatus.Acknowledged => "acknowledged",
            UpdateStatus.WaitTimeout => "wait_timeout",
            UpdateStatus.ClockRejected => "clock_rejected",
            var other => other.ToString(),
        };
        return new QdrantUpdateResult(result.HasOperationId ? result.OperationId : null, status);
    }

    /// <summary>
    /// One unary call through the official client, asked again (after the retry policy's wait, honouring a
    /// <c>retry-after</c> entry) while Qdrant answers UNAVAILABLE, RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED (a
    /// connection refused or cut is UNAVAILABLE too); any other status is an error at once. Each attempt has the
    /// transport's timeout as its deadline.
    /// </summary>
    private async Task<T> CallGrpcAsync<T>(Func<Metadata, DateTime, CancellationToken, AsyncUnaryCall<T>> call, string what, string target,
        string? collection, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var pending = call(GrpcHeaders(), DateTime.UtcNow + _transport.Timeout, cancellationToken);
                return await pending.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (IsTransient(ex) && attempt < _transport.Retry.MaxAttempts)
                {
                    var delay = _transport.Retry.DelayFor(attempt, RetryAfter(ex));
                    QdrantLog.BodyRetry(_logger, what, $"gRPC {ex.StatusCode}: {Scrub(ex.Status.Detail)}", attempt, _transport.Retry.MaxAttempts, delay.TotalMilliseconds);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw GrpcFailure(ex, what, target, collection, attempt);
            }
        }
    }

    /// <summary>
    /// Worth asking again: Qdrant's "try later" statuses, and an answer that broke off on the way (the stream reset
    /// or the connection lost mid-answer, which Grpc.Net.Client reports as INTERNAL with the I/O error inside).
    /// </summary>
    private static bool IsTransient(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted or StatusCode.DeadlineExceeded
        || (ex.StatusCode is StatusCode.Internal or StatusCode.Unknown && ex.Status.DebugException is IOException or HttpRequestException);

    private static TimeSpan? RetryAfter(RpcException ex)
    {
        var text = ex.Trailers.GetValue("retry-after");
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    /// <summary>A non-OK gRPC status as the error the REST client gives for the matching HTTP status.</summary>
    private Exception GrpcFailure(RpcException ex, string what, string target, string? collection, int attempt)
    {
        var code = ex.StatusCode;
        var name = code.ToString();
        // The call's own exception stays the inner one, unless the server's words echo the key.
        Exception? inner = _apiKey is not null && ex.ToString().Contains(_apiKey.Reveal(), StringComparison.Ordinal) ? null : ex;
        var serverMessage = ex.Status.Detail;
        var detail = string.IsNullOrEmpty(serverMessage)
            ? $"gRPC {name}"
            : $"gRPC {name}: {Scrub(serverMessage.Length > 500 ? serverMessage[..500] + "…" : serverMessage)}";
        return code switch
        {
            StatusCode.PermissionDenied or StatusCode.Unauthenticated => new VecMigrateException(FailureKind.Unauthorized, "QdrantUnauthorized",
                _apiKey is null
                    ? $"{what}: Qdrant refused the request without an API key; give one ({detail})."
                    : $"{what}: Qdrant refused the API key ({detail}).", target, inner),
            StatusCode.NotFound when collection is not null => new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound",
                $"{what}: the collection '{collection}' does not exist at {GrpcUrl!.GetLeftPart(UriPartial.Path).TrimEnd('/')} ({detail}).", target, inner),
            // Grpc.Net.Client reads an HTTP 404 (no gRPC server at that path) as UNIMPLEMENTED.
            StatusCode.NotFound or StatusCode.Unimplemented => new VecMigrateException(FailureKind.NotFound, "QdrantNotFound",
                $"{what}: there is no Qdrant gRPC API at {target} ({detail}).", target, inner),
            StatusCode.InvalidArgument or StatusCode.AlreadyExists or StatusCode.FailedPrecondition or StatusCode.OutOfRange =>
                new VecMigrateException(FailureKind.InvalidArgument, "QdrantBadRequest", $"{what}: Qdrant refused the request ({detail}).", target, inner),
            StatusCode.ResourceExhausted => new VecMigrateException(FailureKind.LimitExceeded, "QdrantRateLimited",
                $"{what}: Qdrant kept asking to slow down after {attempt} attempt(s) ({detail}).", target, inner),
            StatusCode.DeadlineExceeded => new VecMigrateException(FailureKind.Timeout, ErrorPrefix + "Timeout",
                $"{what}: no answer within {_transport.Timeout.TotalSeconds:0.#} s after {attempt} attempt(s) ({detail}).", target, inner),
            // The answer was not gRPC at all (no grpc-status, another content type): Grpc.Net.Client words these
            // "Bad gRPC response" and gives CANCELLED or INTERNAL; a message its parser cannot read is INTERNAL
            // "Failed to deserialize response message".
            StatusCode.Cancelled or StatusCode.Internal when serverMessage.StartsWith("Bad gRPC response", StringComparison.Ordinal)
                    || serverMessage.StartsWith("Failed to deserialize", StringComparison.Ordinal) =>
                new VecMigrateException(FailureKind.InvalidResponse, "QdrantInvalidResponse",
                    $"{what}: the answer is not what Qdrant's API promises ({detail}).", target, inner),
            _ when ex.Status.DebugException is HttpRequestException or IOException => new VecMigrateException(
                FailureKind.Unreachable, ErrorPrefix + "Unreachable", $"{what}: the connection to {target} failed after {attempt} attempt(s) ({detail}).", target, inner),
            _ => new VecMigrateException(FailureKind.Unreachable, "QdrantServerError", $"{what}: Qdrant failed ({detail}).", target, inner),
        };
    }
}
