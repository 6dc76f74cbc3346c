using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Qdrant.Client.Grpc;
using VecMigrate.Engine.Records;
using DenseVector = VecMigrate.Engine.Records.DenseVector;
using GrpcDense = Qdrant.Client.Grpc.DenseVector;
using GrpcPointId = Qdrant.Client.Grpc.PointId;
using GrpcSparse = Qdrant.Client.Grpc.SparseVector;
using PointId = VecMigrate.Engine.Records.PointId;
using SparseVector = VecMigrate.Engine.Records.SparseVector;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// The Qdrant stand-in's gRPC side (real Qdrant serves it on port 6334): <c>qdrant.Points/Scroll</c> and
/// <c>qdrant.Points/Upsert</c> (POST /qdrant.Points/{method}) on a second
/// Kestrel listener that speaks cleartext HTTP/2 only (prior knowledge, as gRPC clients do). Requests are read and
/// answers written with the message types Qdrant.Client generates from Qdrant's own .proto files
/// (<c>Qdrant.Client.Grpc</c>), so the engine's client and this server cannot agree on a wrong field number.
/// </summary>
/// <remarks>
/// Behaviour followed, by where it is in Qdrant's source:
/// <list type="bullet">
/// <item>lib/api/src/conversions/vectors.rs (VectorInternal → grpc VectorOutput): each vector goes only into the
/// <c>dense</c> / <c>sparse</c> / <c>multi_dense</c> oneof; the deprecated <c>data</c>, <c>indices</c> and
/// <c>vectors_count</c> stay empty. A point whose only vector shown is the unnamed one gets <c>VectorsOutput.vector</c>,
/// any other gets the <c>vectors</c> map (as the REST side picks a bare value or a map).</item>
/// <item>lib/api/src/conversions/json.rs (json_to_proto): a JSON number that fits i64 is <c>integer_value</c>, any other
/// number (u64 beyond i64, fractions, exponents, integers too big for u64) is <c>double_value</c>; serde_json reads
/// <c>-0</c> as the float -0.0.</item>
/// <item>src/tonic/auth.rs with src/common/auth: a missing key is UNAUTHENTICATED "Must provide an API key or an
/// Authorization bearer token", a wrong one UNAUTHENTICATED "Invalid API key or JWT", sent as a trailers-only answer
/// (tonic's Status::into_http); the check runs before routing.</item>
/// <item>lib/storage/src/content_manager/conversions.rs (StorageError → Status) and errors.rs: a missing collection is
/// NOT_FOUND "Not found: Collection `x` doesn't exist!", bad input INVALID_ARGUMENT "Wrong input: ..", rate limiting
/// RESOURCE_EXHAUSTED with a <c>retry-after</c> metadata entry.</item>
/// <item>src/tonic/api/query_common.rs (scroll) and lib/api/build.rs (validation): limit must be at least 1
/// (INVALID_ARGUMENT "Validation error in body: [..]"), the default page is 10, payload is shown unless asked not
/// to, vectors only when asked; <c>time</c> is always set, <c>usage</c> left out (hardware reporting off).</item>
/// </list>
/// Where it differs: filters support what the REST side supports (keyword, integer and boolean <c>match</c> on a
/// dotted key, <c>has_id</c>, nested filters); other conditions, <c>min_should</c>, <c>order_by</c>,
/// <c>shard_key_selector</c> and nested payload paths answer INVALID_ARGUMENT naming the stand-in; a message that is
/// not protobuf answers INTERNAL with the parser's text.
/// <para>
/// <see cref="Faults"/> serve both listeners, the first matching request taking each (a gRPC path is
/// <c>/qdrant.Points/Scroll</c>, so <c>pathEndsWith: "/Scroll"</c> picks gRPC alone): a 429 becomes RESOURCE_EXHAUSTED
/// with <c>retry-after</c>, any other status UNAVAILABLE, a cut sends part of the body and resets the stream.
/// <see cref="PreRender"/> also makes each vector's message once when seeded.
/// </para>
/// </remarks>
public sealed partial class QdrantStandIn
{
    private const int GrpcInvalidArgument = 3, GrpcNotFound = 5, GrpcAlreadyExists = 6, GrpcResourceExhausted = 8,
        GrpcUnimplemented = 12, GrpcInternal = 13, GrpcUnavailable = 14, GrpcUnauthenticated = 16;

    private static readonly JsonSerializerOptions QuotedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ConditionalWeakTable<VectorValue, VectorOutput> _grpcRendered = new();
    private readonly ConditionalWeakTable<byte[], PayloadEntry[]> _grpcPayloads = new();
    private readonly ConcurrentQueue<byte[]> _grpcScrollBodies = new();
    private StandInHost? _grpcHost;
    private int _grpcScrolls;
    private int _grpcUpserts;
    private int _grpcCollectionCalls;

    /// <summary>http://127.0.0.1:PORT/ of the gRPC listener (cleartext HTTP/2 only).</summary>
    public Uri GrpcBaseAddress => _grpcHost!.BaseAddress;

    /// <summary>gRPC Upsert requests applied (faults and refusals not counted).</summary>
    public int GrpcUpsertRequests => Volatile.Read(ref _grpcUpserts);

    /// <summary>gRPC qdrant.Collections calls answered (List, Get, Create; faults and refusals not counted).</summary>
    public int GrpcCollectionRequests => Volatile.Read(ref _grpcCollectionCalls);

    /// <summary>gRPC Scroll requests answered (faults and refusals not counted).</summary>
    public int GrpcScrollRequests => Volatile.Read(ref _grpcScrolls);

    /// <summary>The ScrollPoints messages of the gRPC scrolls answered (without the 5-byte frame), oldest first.</summary>
    public IReadOnlyList<byte[]> GrpcScrollBodies => _grpcScrollBodies.ToArray();

    /// <summary>One payload key and its value, made once per stored payload.</summary>
    private sealed record PayloadEntry(string Key, Value Value);

    private sealed class GrpcError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
        public string? RetryAfter { get; init; }
    }

    private static GrpcError GrpcUnsupported(string what) => new(GrpcInvalidArgument, $"Bad request: the Qdrant stand-in does not support {what}");

    // ---------------------------------------------------------------- gRPC over HTTP/2

    private async Task HandleGrpcAsync(HttpContext ctx)
    {
        var started = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _requests);
        var path = ctx.Request.Path.Value ?? "/";
        try
        {
            if (Faults.Delay > TimeSpan.Zero) await Task.Delay(Faults.Delay, ctx.RequestAborted).ConfigureAwait(false);
            var cutAt = (double?)null;
            if (Faults.TryTake(path, out var fault))
            {
                if (fault.Slow > TimeSpan.Zero) await Task.Delay(fault.Slow, ctx.RequestAborted).ConfigureAwait(false);
                else if (fault.CutAt is { } c) cutAt = c;
                else if (fault.Status == 429)
                    throw new GrpcError(GrpcResourceExhausted, "Rate limiting exceeded: injected by the Qdrant stand-in")
                    {
                        RetryAfter = fault.RetryAfter is { } ra ? ((int)Math.Ceiling(ra.TotalSeconds)).ToString(CultureInfo.InvariantCulture) : null,
                    };
                else throw new GrpcError(GrpcUnavailable, "Service unavailable: injected by the Qdrant stand-in");
            }
            if (ApiKey is { } key)
            {
                var given = ctx.Request.Headers["api-key"].FirstOrDefault();
                if (given is null && ctx.Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal))
                    given = auth["Bearer ".Length..];
                if (given != key)
                    throw new GrpcError(GrpcUnauthenticated, given is null ? "Must provide an API key or an Authorization bearer token" : "Invalid API key or JWT");
            }
            if (path is not ("/qdrant.Points/Scroll" or "/qdrant.Points/Upsert" or "/qdrant.Collections/List" or "/qdrant.Collections/Get" or "/qdrant.Collections/Create")
                || ctx.Request.Method != "POST") throw new GrpcError(GrpcUnimplemented, "");
            var request = await ReadGrpcMessageAsync(ctx).ConfigureAwait(false);
            IMessage answer;
            if (path.StartsWith("/qdrant.Collections/", StringComparison.Ordinal))
            {
                answer = AnswerCollections(path["/qdrant.Collections/".Length..], request, started);
                Interlocked.Increment(ref _grpcCollectionCalls);
            }
            else if (path == "/qdrant.Points/Scroll")
            {
                var scrolled = AnswerScroll(request, started);
                Interlocked.Increment(ref _grpcScrolls);
                _grpcScrollBodies.Enqueue(request);
                Interlocked.Add(ref _pointsServed, scrolled.Result.Count);
                answer = scrolled;
            }
            else
            {
                answer = AnswerUpsert(request, started);
            }

            var size = answer.CalculateSize();
            var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(5 + size); // a page of vectors is megabytes: no new array each time
            var body = rented.AsMemory(0, 5 + size);
            rented[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(rented.AsSpan(1), (uint)size);
            answer.WriteTo(rented.AsSpan(5, size));
            try
            {
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/grpc";
                if (cutAt is { } fraction)
                {
                    // A part of the answer, and the connection reset.
                    await ctx.Response.BodyWriter.WriteAsync(body[..(int)(body.Length * fraction)], ctx.RequestAborted).ConfigureAwait(false);
                    await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
                    await Task.Delay(50, ctx.RequestAborted).ConfigureAwait(false);
                    ctx.Abort();
                    return;
                }
                var result = await ctx.Response.BodyWriter.WriteAsync(body, ctx.RequestAborted).ConfigureAwait(false);
                if (result.IsCanceled || result.IsCompleted) throw new OperationCanceledException();
                ctx.Response.AppendTrailer("grpc-status", "0");
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
        catch (GrpcError e)
        {
            // Trailers-only: status and message as headers of an empty 200 answer (tonic's Status::into_http).
            if (ctx.Response.HasStarted) throw;
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/grpc";
            ctx.Response.Headers["grpc-status"] = e.Code.ToString(CultureInfo.InvariantCulture);
            if (e.Message.Length > 0) ctx.Response.Headers["grpc-message"] = PercentEncode(e.Message);
            if (e.RetryAfter is not null) ctx.Response.Headers["retry-after"] = e.RetryAfter;
        }
    }

    /// <summary>gRPC's percent-encoding of grpc-message: bytes outside printable ASCII, and '%', as %XX of the UTF-8.</summary>
    public static string PercentEncode(string message)
    {
        var sb = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static async Task<byte[]> ReadGrpcMessageAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        if (body.Length < 5) throw new GrpcError(GrpcInternal, "protocol error: the request holds no complete message");
        if (body[0] != 0)
        {
            var encoding = ctx.Request.Headers["grpc-encoding"].FirstOrDefault();
            throw encoding is null
                ? new GrpcError(GrpcInternal, "protocol error: received message with compressed-flag but no grpc-encoding was specified")
                : new GrpcError(GrpcUnimplemented, $"Content is compressed with `{encoding}` which isn't supported");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(body[1..]);
        if (length != body.Length - 5) throw new GrpcError(GrpcInternal, "protocol error: the request is not one whole length-prefixed message");
        return body[5..].ToArray();
    }

    private static T Parse<T>(MessageParser<T> parser, byte[] message) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(message);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new GrpcError(GrpcInternal, "failed to decode Protobuf message: " + e.Message);
        }
    }

    // ---------------------------------------------------------------- Scroll

    /// <summary>
    /// <c>qdrant.Collections/List</c>, <c>Get</c> and <c>Create</c> over the collections the REST side keeps, as
    /// src/tonic/api/collections_api.rs answers them: Get gives the <c>CollectionInfo</c> of lib/api's conversions
    /// (the REST answer's fields, enums for status, distance, datatype and modifier), Create the same checks as
    /// <c>PUT /collections/{name}</c> with ALREADY_EXISTS for a name taken (StorageError::AlreadyExists).
    /// </summary>
    private IMessage AnswerCollections(string method, byte[] message, long started)
    {
        var time = Stopwatch.GetElapsedTime(started).TotalSeconds;
        switch (method)
        {
            case "List":
            {
                Parse(ListCollectionsRequest.Parser, message);
                var list = new ListCollectionsResponse { Time = time };
                foreach (var name in _collections.Keys.Order(StringComparer.Ordinal)) list.Collections.Add(new CollectionDescription { Name = name });
                return list;
            }
            case "Get":
            {
                var request = Parse(GetCollectionInfoRequest.Parser, message);
                if (!Find(request.CollectionName, out var c)) throw new GrpcError(GrpcNotFound, $"Not found: Collection `{request.CollectionName}` doesn't exist!");
                return new GetCollectionInfoResponse { Result = c.GrpcInfo(), Time = time };
            }
            default: // Create
            {
                var request = Parse(Qdrant.Client.Grpc.CreateCollection.Parser, message);
                var dense = new List<QdrantStandInVector>();
                switch (request.VectorsConfig?.ConfigCase)
                {
                    case VectorsConfig.ConfigOneofCase.Params:
                        dense.Add(GrpcVector("", request.VectorsConfig.Params));
                        break;
                    case VectorsConfig.ConfigOneofCase.ParamsMap:
                        foreach (var (name, p) in request.VectorsConfig.ParamsMap.Map) dense.Add(GrpcVector(name, p));
                        break;
                }
                var sparse = new List<QdrantStandInSparse>();
                if (request.SparseVectorsConfig is { } sc)
                {
                    foreach (var (name, p) in sc.Map)
                        sparse.Add(new QdrantStandInSparse(name, p.HasModifier ? p.Modifier.ToString().ToLowerInvariant() : null));
                }
                var error = Collection.TryCreate(request.CollectionName, dense, sparse, out var collection);
                if (error is not null) throw new GrpcError(GrpcInvalidArgument, "Wrong input: " + error);
                if (!_collections.TryAdd(request.CollectionName, collection!))
                    throw new GrpcError(GrpcAlreadyExists, $"Wrong input: Collection `{request.CollectionName}` already exists!");
                return new CollectionOperationResponse { Result = true, Time = time };
            }
        }
    }

    private static QdrantStandInVector GrpcVector(string name, VectorParams p)
    {
        if (p.Size is 0 or > 65536)
            throw new GrpcError(GrpcInvalidArgument, $"Validation error in body: [vectors_config.size: value {p.Size} invalid, must be from 1 to 65536]");
        if (p.Distance == Distance.UnknownDistance) throw new GrpcError(GrpcInvalidArgument, "Wrong input: unknown distance");
        string? datatype = p.HasDatatype ? p.Datatype switch
        {
            Datatype.Default => null,
            Datatype.Float32 => "float32",
            Datatype.Float16 => "float16",
            Datatype.Uint8 => "uint8",
            var other => throw GrpcUnsupported($"datatype {other}"),
        } : null;
        return new QdrantStandInVector(name, (int)p.Size, p.Distance.ToString(), datatype, p.MultivectorConfig is not null);
    }

    private ScrollResponse AnswerScroll(byte[] message, long started)
    {
        var request = Parse(ScrollPoints.Parser, message);
        var name = request.CollectionName;
        if (request.ShardKeySelector is not null) throw GrpcUnsupported("`shard_key_selector`");
        if (request.OrderBy is not null) throw GrpcUnsupported("`order_by`");
        var filter = request.Filter is { } f ? GrpcFilter(f) : null;
        if (name.Length is 0 or > 255)
            throw new GrpcError(GrpcInvalidArgument, // lib/collection/src/operations/validation.rs words a length error so
                $"Validation error in body: [collection_name: value {JsonSerializer.Serialize(name, QuotedJson)} invalid, must be from 1 to 255 characters]");
        if (request.HasLimit && request.Limit == 0)
            throw new GrpcError(GrpcInvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]");
        if (!Find(name, out var c)) throw new GrpcError(GrpcNotFound, $"Not found: Collection `{name}` doesn't exist!");

        // with_payload left out: all of it (query_common.rs scroll defaults as REST does).
        var (payload, include, exclude) = request.WithPayload is { } wp ? GrpcPayloadSelection(wp) : (true, null, null);
        var names = VectorSelection(request.WithVectors, c);
        var offset = request.Offset is { } o ? ReadPointId(o) : (PointId?)null;
        var (page, next) = c.Scroll(offset, (int)Math.Min(request.HasLimit ? request.Limit : 10, int.MaxValue - 1), filter);

        var answer = new ScrollResponse();
        if (next is { } n) answer.NextPageOffset = ToGrpcId(n);
        foreach (var p in page)
        {
            var point = new RetrievedPoint { Id = ToGrpcId(p.Id) };
            if (payload)
            {
                foreach (var e in SelectPayload(p.Payload, include, exclude)) point.Payload.Add(e.Key, e.Value);
            }
            if (names.Length > 0)
            {
                var shown = names.Where(p.Vectors.ContainsKey).ToArray();
                var output = new VectorsOutput();
                if (shown is [""])
                {
                    output.Vector = Rendered(p.Vectors[""]);
                }
                else
                {
                    output.Vectors = new NamedVectorsOutput();
                    foreach (var v in shown) output.Vectors.Vectors.Add(v, Rendered(p.Vectors[v]));
                }
                point.Vectors = output;
            }
            answer.Result.Add(point);
        }
        answer.Time = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return answer;
    }

    // ---------------------------------------------------------------- Upsert

    /// <summary>
    /// UpsertPoints as the REST upsert does it (the same checks, Qdrant's wording, the same preprocessing); the payload
    /// is kept as JSON, Value by Value as lib/api/src/conversions/json.rs proto_to_json writes it.
    /// </summary>
    private PointsOperationResponse AnswerUpsert(byte[] message, long started)
    {
        var request = Parse(UpsertPoints.Parser, message);
        if (request.ShardKeySelector is not null) throw GrpcUnsupported("`shard_key_selector`");
        if (request.UpdateFilter is not null) throw GrpcUnsupported("`update_filter`");
        if (!Find(request.CollectionName, out var c)) throw new GrpcError(GrpcNotFound, $"Not found: Collection `{request.CollectionName}` doesn't exist!");
        var points = new List<Point>(request.Points.Count);
        foreach (var p in request.Points)
        {
            if (p.Id is null) throw new GrpcError(GrpcInvalidArgument, "Malformed PointId type");
            var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
            switch (p.Vectors?.VectorsOptionsCase)
            {
                case Vectors.VectorsOptionsOneofCase.Vector:
                    vectors[""] = FromGrpc(p.Vectors.Vector);
                    break;
                case Vectors.VectorsOptionsOneofCase.Vectors_:
                    foreach (var (name, v) in p.Vectors.Vectors_.Vectors) vectors[name] = FromGrpc(v);
                    break;
                default:
                    throw new GrpcError(GrpcInvalidArgument, "Vectors is required");
            }
            var error = c.Check(vectors);
            if (error is not null) throw new GrpcError(GrpcInvalidArgument, "Wrong input: " + error);
            points.Add(new Point(ReadPointId(p.Id), c.Preprocess(vectors), p.Payload.Count == 0 ? null : PayloadJson(p.Payload)));
        }
        var operation = c.Upsert(points);
        _upserts.Enqueue(new QdrantStandInUpsert(message.Length, points.Count));
        Interlocked.Increment(ref _grpcUpserts);
        return new PointsOperationResponse
        {
            Result = new UpdateResult { OperationId = (ulong)operation, Status = request.Wait ? UpdateStatus.Completed : UpdateStatus.Acknowledged },
            Time = Stopwatch.GetElapsedTime(started).TotalSeconds,
        };
    }

#pragma warning disable CS0612 // the deprecated flat form is still accepted, as Qdrant does
    private static VectorValue FromGrpc(Vector v) => v.VectorCase switch
    {
        Vector.VectorOneofCase.Dense => new DenseVector(v.Dense.Data.ToArray()),
        Vector.VectorOneofCase.Sparse => new SparseVector(v.Sparse.Indices.ToArray(), v.Sparse.Values.ToArray()),
        Vector.VectorOneofCase.MultiDense => new MultiVector(v.MultiDense.Vectors.Select(d => d.Data.ToArray()).ToArray()),
        Vector.VectorOneofCase.None when v.Indices is not null => new SparseVector(v.Indices.Data.ToArray(), v.Data.ToArray()),
        Vector.VectorOneofCase.None => new DenseVector(v.Data.ToArray()),
        _ => throw GrpcUnsupported($"the vector `{v.VectorCase}`"),
    };
#pragma warning restore CS0612

    private static byte[] PayloadJson(Google.Protobuf.Collections.MapField<string, Value> payload)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteJsonObject(w, payload);
        }
        return buffer.ToArray();
    }

    private static void WriteJsonObject(Utf8JsonWriter w, Google.Protobuf.Collections.MapField<string, Value> fields)
    {
        w.WriteStartObject();
        foreach (var (key, value) in fields)
        {
            w.WritePropertyName(key);
            WriteJson(w, value);
        }
        w.WriteEndObject();
    }

    private static void WriteJson(Utf8JsonWriter w, Value v)
    {
        switch (v.KindCase)
        {
            case Value.KindOneofCase.IntegerValue: w.WriteNumberValue(v.IntegerValue); break;
            case Value.KindOneofCase.DoubleValue:
                // serde_json writes a whole f64 with ".0" (1.0, -0.0), so a float stays a float.
                var d = v.DoubleValue;
                if (double.IsFinite(d) && Math.Abs(d) < 1e16 && Math.Floor(d) == d)
                    w.WriteRawValue((double.IsNegative(d) && d == 0 ? "-0" : d.ToString("F0", CultureInfo.InvariantCulture)) + ".0");
                else w.WriteNumberValue(d);
                break;
            case Value.KindOneofCase.StringValue: w.WriteStringValue(v.StringValue); break;
            case Value.KindOneofCase.BoolValue: w.WriteBooleanValue(v.BoolValue); break;
            case Value.KindOneofCase.StructValue: WriteJsonObject(w, v.StructValue.Fields); break;
            case Value.KindOneofCase.ListValue:
                w.WriteStartArray();
                foreach (var x in v.ListValue.Values) WriteJson(w, x);
                w.WriteEndArray();
                break;
            default: w.WriteNullValue(); break;
        }
    }

    private static GrpcPointId ToGrpcId(PointId id) => id.Kind == PointIdKind.Unsigned
        ? new GrpcPointId { Num = id.AsUnsigned }
        : new GrpcPointId { Uuid = id.AsUuid.ToString("D") }; // Qdrant writes UUIDs hyphenated, lower case

    private static PointId ReadPointId(GrpcPointId id) => id.PointIdOptionsCase switch
    {
        GrpcPointId.PointIdOptionsOneofCase.Num => PointId.FromUnsigned(id.Num),
        GrpcPointId.PointIdOptionsOneofCase.Uuid => Guid.TryParse(id.Uuid, out var g)
            ? PointId.FromUuid(g)
            : throw new GrpcError(GrpcInvalidArgument, $"Unable to parse UUID: {id.Uuid}"),
        _ => throw new GrpcError(GrpcInvalidArgument, "No ID options provided"),
    };

    private static (bool Enabled, string[]? Include, string[]? Exclude) GrpcPayloadSelection(WithPayloadSelector selector)
    {
        static string[] Fields(IEnumerable<string> fields)
        {
            foreach (var f in fields)
            {
                if (f.Contains('.') || f.Contains('[')) throw GrpcUnsupported($"nested payload paths (`{f}`)");
            }
            return fields.ToArray();
        }

        return selector.SelectorOptionsCase switch
        {
            WithPayloadSelector.SelectorOptionsOneofCase.Enable => (selector.Enable, null, null),
            WithPayloadSelector.SelectorOptionsOneofCase.Include => (true, Fields(selector.Include.Fields), null),
            WithPayloadSelector.SelectorOptionsOneofCase.Exclude => (true, null, Fields(selector.Exclude.Fields)),
            _ => throw new GrpcError(GrpcInvalidArgument, "No PayloadSelector"),
        };
    }

    /// <summary>The vector names to show, in the collection's order; none unless asked (a selector with no option: none).</summary>
    private static string[] VectorSelection(WithVectorsSelector? selector, Collection c)
    {
        switch (selector?.SelectorOptionsCase)
        {
            case WithVectorsSelector.SelectorOptionsOneofCase.Enable:
                return selector.Enable ? c.VectorNames : [];
            case WithVectorsSelector.SelectorOptionsOneofCase.Include:
                foreach (var n in selector.Include.Names)
                {
                    if (!c.VectorNames.Contains(n)) throw new GrpcError(GrpcInvalidArgument, $"Wrong input: Not existing vector name error: {n}");
                }
                return c.VectorNames.Where(selector.Include.Names.Contains).ToArray();
            default:
                return [];
        }
    }

    private VectorOutput Rendered(VectorValue v) => _grpcRendered.TryGetValue(v, out var pre) ? pre : RenderGrpc(v);

    /// <summary>A stored vector as VectorOutput: only the oneof (dense, sparse, multi_dense) is set.</summary>
    private static VectorOutput RenderGrpc(VectorValue v)
    {
        static GrpcDense Dense(float[] values)
        {
            var d = new GrpcDense();
            d.Data.AddRange(values);
            return d;
        }

        switch (v)
        {
            case DenseVector d:
                return new VectorOutput { Dense = Dense(d.Values) };
            case SparseVector s:
                var sparse = new GrpcSparse();
                sparse.Values.AddRange(s.Values);
                sparse.Indices.AddRange(s.Indices);
                return new VectorOutput { Sparse = sparse };
            case MultiVector m:
                var multi = new MultiDenseVector();
                foreach (var row in m.Vectors) multi.Vectors.Add(Dense(row));
                return new VectorOutput { MultiDense = multi };
            default:
                throw new NotSupportedException(v.GetType().Name);
        }
    }

    // ---------------------------------------------------------------- filters (the REST side's subset)

    private static Func<Point, bool> GrpcFilter(Qdrant.Client.Grpc.Filter filter)
    {
        if (filter.MinShould is not null) throw GrpcUnsupported("`min_should`");
        var must = filter.Must.Select(GrpcCondition).ToArray();
        var should = filter.Should.Select(GrpcCondition).ToArray();
        var mustNot = filter.MustNot.Select(GrpcCondition).ToArray();
        return p => must.All(c => c(p)) && (should.Length == 0 || should.Any(c => c(p))) && !mustNot.Any(c => c(p));
    }

    private static Func<Point, bool> GrpcCondition(Condition condition)
    {
        switch (condition.ConditionOneOfCase)
        {
            case Condition.ConditionOneOfOneofCase.HasId:
                var ids = condition.HasId.HasId.Select(ReadPointId).ToHashSet();
                return p => ids.Contains(p.Id);
            case Condition.ConditionOneOfOneofCase.Filter:
                return GrpcFilter(condition.Filter);
            case Condition.ConditionOneOfOneofCase.Field:
                var field = condition.Field;
                if (field.Match is null || field.Range is not null || field.GeoBoundingBox is not null || field.GeoRadius is not null
                    || field.GeoPolygon is not null || field.ValuesCount is not null || field.DatetimeRange is not null
                    || field.HasIsEmpty || field.HasIsNull)
                    throw GrpcUnsupported("field conditions other than `match`");
                var match = field.Match;
                JsonElement wanted = match.MatchValueCase switch
                {
                    Match.MatchValueOneofCase.Keyword => JsonSerializer.SerializeToElement(match.Keyword),
                    Match.MatchValueOneofCase.Integer => JsonSerializer.SerializeToElement(match.Integer),
                    Match.MatchValueOneofCase.Boolean => JsonSerializer.SerializeToElement(match.Boolean),
                    _ => throw GrpcUnsupported($"the match `{match.MatchValueCase}`"),
                };
                var path = field.Key.Split('.');
                return p => p.Payload is not null && Filter.MatchesValue(p.Payload, path, wanted);
            default:
                throw GrpcUnsupported($"the condition `{condition.ConditionOneOfCase}`");
        }
    }

    // ---------------------------------------------------------------- payload: JSON → qdrant.Value

    private IEnumerable<PayloadEntry> SelectPayload(byte[]? payload, string[]? include, string[]? exclude)
    {
        if (payload is null) return [];
        var all = _grpcPayloads.GetValue(payload, EncodePayload);
        if (include is not null) return all.Where(e => include.Contains(e.Key));
        if (exclude is not null) return all.Where(e => !exclude.Contains(e.Key));
        return all;
    }

    private static PayloadEntry[] EncodePayload(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 256 });
        // A repeated key keeps its last value, as serde_json's map does.
        var entries = new List<PayloadEntry>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            entries.RemoveAll(e => e.Key == p.Name);
            entries.Add(new PayloadEntry(p.Name, ToValue(p.Value)));
        }
        return entries.ToArray();
    }

    /// <summary>A qdrant.Value (json_with_int.proto), as lib/api/src/conversions/json.rs json_to_proto maps JSON.</summary>
    private static Value ToValue(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                var raw = e.GetRawText();
                if (raw == "-0") return new Value { DoubleValue = -0.0 };
                if (e.TryGetInt64(out var l)) return new Value { IntegerValue = l };
                return new Value { DoubleValue = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture) };
            case JsonValueKind.String:
                return new Value { StringValue = e.GetString()! };
            case JsonValueKind.True or JsonValueKind.False:
                return new Value { BoolValue = e.ValueKind == JsonValueKind.True };
            case JsonValueKind.Object:
                var s = new Struct();
                foreach (var p in e.EnumerateObject()) s.Fields[p.Name] = ToValue(p.Value); // the last of a repeated key wins
                return new Value { StructValue = s };
            case JsonValueKind.Array:
                var list = new ListValue();
                foreach (var x in e.EnumerateArray()) list.Values.Add(ToValue(x));
                return new Value { ListValue = list };
            default:
                return new Value { NullValue = NullValue.NullValue };
        }
    }
}
