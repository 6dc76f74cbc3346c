using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// The optional gRPC path of the bulk read: with <see cref="GrpcUrl"/> set, scrolls go to Qdrant's gRPC API
/// (port 6334) as <c>qdrant.Points/Scroll</c> over HTTP/2, where dense vectors travel as packed float32 instead of
/// decimal text. Everything else stays REST. Failures map to the same error ids as REST.
/// </summary>
public sealed partial class QdrantClient
{
    private static readonly MediaTypeHeaderValue GrpcMediaType = new("application/grpc");
    private readonly Uri? _grpcUrl;

    /// <summary>
    /// Qdrant's gRPC root (usually port 6334), or null (the default) to scroll over REST. <c>http</c> speaks HTTP/2
    /// without TLS (prior knowledge), <c>https</c> HTTP/2 over TLS. Credentials in the url are dropped; the API key
    /// travels in the <c>api-key</c> header as for REST. Filters are not supported over gRPC yet.
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

    private async Task<QdrantScrollPage> ScrollGrpcAsync(Uri grpcUrl, string collection, QdrantScrollRequest request, RecordStamp stamp,
        CancellationToken cancellationToken)
    {
        if (request.FilterJson is not null)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantGrpcFilterUnsupported",
                "Reads over Qdrant's gRPC API do not support a filter (-Filter) yet; read over REST (no gRPC url) to filter.",
                grpcUrl.GetLeftPart(UriPartial.Path));
        }
        var body = QdrantGrpcScroll.WriteRequest(collection, request);
        var url = new Uri(grpcUrl, QdrantGrpcScroll.MethodPath);
        var target = url.GetLeftPart(UriPartial.Path);
        var what = $"Scrolling Qdrant collection '{collection}' over gRPC";
        for (var attempt = 1; ; attempt++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await _transport.SendAsync(() => MakeGrpcRequest(url, body), what, ErrorPrefix,
                cancellationToken, HttpCompletionOption.ResponseHeadersRead, compressed: false).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Not a gRPC answer (a proxy, or no gRPC server at that path): read it as REST would.
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                    throw new VecMigrateException(FailureKind.NotFound, "QdrantNotFound",
                        $"{what}: there is no Qdrant gRPC API at {target} (HTTP 404).", target);
                throw await FailureAsync(response, what, target, null, cancellationToken).ConfigureAwait(false);
            }

            // A trailers-only answer (every error Qdrant sends before a message) has its status in the headers.
            var status = GrpcStatus(response.Headers);
            byte[]? buffer = null;
            var length = 0;
            if (status is null)
            {
                var answer = await ReadAnswerOrWaitAsync(response.Content, what, target, attempt, cancellationToken).ConfigureAwait(false);
                if (answer is null) continue; // the answer broke off: ask again
                (buffer, length) = answer.Value;
                status = GrpcStatus(response.TrailingHeaders);
            }

            try
            {
                if (status is null)
                    throw InvalidResponse(what, target, "the gRPC answer has no grpc-status", null);
                var (code, message) = status.Value;
                if (code != 0)
                {
                    if (code is 4 or 8 or 14 && attempt < _transport.Retry.MaxAttempts)
                    {
                        var delay = _transport.Retry.DelayFor(attempt, null);
                        QdrantLog.BodyRetry(_logger, what, $"gRPC status {code}", attempt, _transport.Retry.MaxAttempts, delay.TotalMilliseconds);
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    throw GrpcFailure(code, message, what, target, collection, attempt);
                }
                QdrantLog.Answered(_logger, "POST", target, (int)response.StatusCode, length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                var frame = (buffer ?? []).AsSpan(0, length);
                var invalid = (string m, Exception? inner) => InvalidResponse(what, target, m, inner);
                if (frame.Length < 5) throw invalid($"the gRPC answer holds {frame.Length} bytes, not a message", null);
                if (frame[0] != 0) throw invalid("the gRPC message is compressed, which was not asked for", null);
                var size = BinaryPrimitives.ReadUInt32BigEndian(frame.Slice(1, 4));
                if (size != (uint)(frame.Length - 5))
                    throw invalid($"the gRPC frame announces {size} bytes but {frame.Length - 5} follow", null);
                return QdrantGrpcScroll.Parse(frame[5..], stamp, request.WithPayload.Enabled, invalid);
            }
            finally
            {
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private HttpRequestMessage MakeGrpcRequest(Uri url, byte[] frame)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (_apiKey is not null) request.Headers.TryAddWithoutValidation("api-key", _apiKey.Reveal());
        request.Content = new ByteArrayContent(frame);
        request.Content.Headers.ContentType = GrpcMediaType;
        return request;
    }

    /// <summary>grpc-status and (percent-decoded) grpc-message, when the headers hold a status.</summary>
    private static (int Code, string? Message)? GrpcStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var values)) return null;
        var text = values.FirstOrDefault();
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code))
            return (2, $"grpc-status '{text}'"); // an unreadable status is UNKNOWN
        string? message = null;
        if (headers.TryGetValues("grpc-message", out var m) && m.FirstOrDefault() is { Length: > 0 } raw)
        {
            try
            {
                message = Uri.UnescapeDataString(raw);
            }
            catch (UriFormatException)
            {
                message = raw;
            }
        }
        return (code, message);
    }

    /// <summary>A non-OK gRPC status as the error the REST client gives for the matching HTTP status.</summary>
    private Exception GrpcFailure(int code, string? serverMessage, string what, string target, string collection, int attempt)
    {
        var name = code switch
        {
            1 => "CANCELLED", 2 => "UNKNOWN", 3 => "INVALID_ARGUMENT", 4 => "DEADLINE_EXCEEDED", 5 => "NOT_FOUND",
            6 => "ALREADY_EXISTS", 7 => "PERMISSION_DENIED", 8 => "RESOURCE_EXHAUSTED", 9 => "FAILED_PRECONDITION",
            10 => "ABORTED", 11 => "OUT_OF_RANGE", 12 => "UNIMPLEMENTED", 13 => "INTERNAL", 14 => "UNAVAILABLE",
            15 => "DATA_LOSS", 16 => "UNAUTHENTICATED", _ => "status " + code,
        };
        var detail = serverMessage is null ? $"gRPC {name}" : $"gRPC {name}: {Scrub(serverMessage.Length > 500 ? serverMessage[..500] + "…" : serverMessage)}";
        return code switch
        {
            7 or 16 => new VecMigrateException(FailureKind.Unauthorized, "QdrantUnauthorized",
                _apiKey is null
                    ? $"{what}: Qdrant refused the request without an API key; give one ({detail})."
                    : $"{what}: Qdrant refused the API key ({detail}).", target),
            5 => new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound",
                $"{what}: the collection '{collection}' does not exist at {GrpcUrl!.GetLeftPart(UriPartial.Path).TrimEnd('/')} ({detail}).", target),
            12 => new VecMigrateException(FailureKind.NotFound, "QdrantNotFound",
                $"{what}: there is no Qdrant gRPC API at {target} ({detail}).", target),
            3 or 6 or 9 or 11 => new VecMigrateException(FailureKind.InvalidArgument, "QdrantBadRequest",
                $"{what}: Qdrant refused the request ({detail}).", target),
            8 => new VecMigrateException(FailureKind.LimitExceeded, "QdrantRateLimited",
                $"{what}: Qdrant kept asking to slow down after {attempt} attempt(s) ({detail}).", target),
            4 => new VecMigrateException(FailureKind.Timeout, ErrorPrefix + "Timeout",
                $"{what}: Qdrant's deadline passed after {attempt} attempt(s) ({detail}).", target),
            _ => new VecMigrateException(FailureKind.Unreachable, "QdrantServerError",
                $"{what}: Qdrant failed ({detail}).", target),
        };
    }
}
