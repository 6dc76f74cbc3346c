using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Records;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// The Qdrant stand-in's gRPC side (real Qdrant serves it on port 6334): <c>POST /qdrant.Points/Scroll</c> on a second
/// Kestrel listener that speaks cleartext HTTP/2 only (prior knowledge, as gRPC clients do).
/// </summary>
/// <remarks>
/// Wire format per qdrant/qdrant lib/api/src/grpc/proto (points.proto, points_service.proto, json_with_int.proto):
/// the request is one length-prefixed <c>ScrollPoints</c>, the answer one length-prefixed <c>ScrollResponse</c> and the
/// trailer <c>grpc-status: 0</c>; fields are written in field-number order, as prost does, and fields of a oneof are
/// written even when they hold their default value (prost again), while a map entry leaves out an empty key.
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
/// Where it differs: filters (other than an empty one), <c>order_by</c>, <c>shard_key_selector</c> and nested payload
/// paths answer INVALID_ARGUMENT naming the stand-in; malformed protobuf answers INTERNAL with a text of our own.
/// <para>
/// <see cref="Faults"/> serve both listeners, the first matching request taking each (a gRPC path is
/// <c>/qdrant.Points/Scroll</c>, so <c>pathEndsWith: "/Scroll"</c> picks gRPC alone): a 429 becomes RESOURCE_EXHAUSTED
/// with <c>retry-after</c>, any other status UNAVAILABLE, a cut sends part of the body and resets the stream.
/// <see cref="PreRender"/> also encodes each vector's protobuf once when seeded.
/// </para>
/// </remarks>
public sealed partial class QdrantStandIn
{
    private const int GrpcOk = 0, GrpcInvalidArgument = 3, GrpcNotFound = 5, GrpcResourceExhausted = 8,
        GrpcUnimplemented = 12, GrpcInternal = 13, GrpcUnavailable = 14, GrpcUnauthenticated = 16;

    private const int ChunkBytes = 64 * 1024;

    private static readonly JsonSerializerOptions QuotedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ConditionalWeakTable<VectorValue, ByteString> _grpcRendered = new();
    private readonly ConditionalWeakTable<byte[], PayloadEntry[]> _grpcPayloads = new();
    private readonly ConcurrentQueue<byte[]> _grpcScrollBodies = new();
    private StandInHost? _grpcHost;
    private int _grpcScrolls;

    /// <summary>http://127.0.0.1:PORT/ of the gRPC listener (cleartext HTTP/2 only).</summary>
    public Uri GrpcBaseAddress => _grpcHost!.BaseAddress;

    /// <summary>gRPC Scroll requests answered (faults and refusals not counted).</summary>
    public int GrpcScrollRequests => Volatile.Read(ref _grpcScrolls);

    /// <summary>The ScrollPoints messages of the gRPC scrolls answered (without the 5-byte frame), oldest first.</summary>
    public IReadOnlyList<byte[]> GrpcScrollBodies => _grpcScrollBodies.ToArray();

    /// <summary>One payload key, encoded as the content of a <c>map&lt;string, Value&gt;</c> entry.</summary>
    private sealed record PayloadEntry(string Key, ByteString Entry);

    private sealed class GrpcError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
        public string? RetryAfter { get; init; }
    }

    private static GrpcError GrpcUnsupported(string what) => new(GrpcInvalidArgument, $"Bad request: the Qdrant stand-in does not support {what}");

    private static GrpcError Malformed(string what) => new(GrpcInternal, "failed to decode Protobuf message: " + what);

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
            if (path != "/qdrant.Points/Scroll" || ctx.Request.Method != "POST") throw new GrpcError(GrpcUnimplemented, "");
            var request = await ReadGrpcMessageAsync(ctx).ConfigureAwait(false);
            var answer = PrepareGrpcScroll(request);
            Interlocked.Increment(ref _grpcScrolls);
            _grpcScrollBodies.Enqueue(request);
            Interlocked.Add(ref _pointsServed, answer.Page.Count);

            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/grpc";
            if (cutAt is { } fraction)
            {
                // The whole answer into a buffer, then a part of it, and the connection reset.
                using var buffer = new MemoryStream();
                await WriteGrpcScrollAsync(answer, started, m => { buffer.Write(m.Span); return ValueTask.CompletedTask; }).ConfigureAwait(false);
                var body = buffer.ToArray();
                await ctx.Response.BodyWriter.WriteAsync(body.AsMemory(0, (int)(body.Length * fraction)), ctx.RequestAborted).ConfigureAwait(false);
                await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
                await Task.Delay(50, ctx.RequestAborted).ConfigureAwait(false);
                ctx.Abort();
                return;
            }
            var writer = ctx.Response.BodyWriter;
            await WriteGrpcScrollAsync(answer, started, async m =>
            {
                var result = await writer.WriteAsync(m, ctx.RequestAborted).ConfigureAwait(false);
                if (result.IsCanceled || result.IsCompleted) throw new OperationCanceledException();
            }).ConfigureAwait(false);
            ctx.Response.AppendTrailer("grpc-status", "0");
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

    private async Task<byte[]> ReadGrpcMessageAsync(HttpContext ctx)
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

    // ---------------------------------------------------------------- ScrollPoints

    private sealed record GrpcScroll(Collection Collection, List<Point> Page, PointId? Next, bool Payload, string[]? Include, string[]? Exclude, string[] VectorNames);

    private GrpcScroll PrepareGrpcScroll(byte[] message)
    {
        string name = "";
        PointId? offset = null;
        uint? limit = null;
        bool payload = true; // with_payload left out: all of it (query_common.rs scroll defaults as REST does)
        string[]? include = null, exclude = null;
        bool? allVectors = false;
        string[]? vectorNames = null;
        try
        {
            var input = new CodedInputStream(message);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                var field = WireFormat.GetTagFieldNumber(tag);
                var type = WireFormat.GetTagWireType(tag);
                switch (field)
                {
                    case 1 when type == WireFormat.WireType.LengthDelimited:
                        name = input.ReadString();
                        break;
                    case 2 when type == WireFormat.WireType.LengthDelimited:
                        if (input.ReadBytes().Length > 0) throw GrpcUnsupported("filters over gRPC");
                        break; // an empty Filter matches every point
                    case 3 when type == WireFormat.WireType.LengthDelimited:
                        offset = ReadPointId(input.ReadBytes());
                        break;
                    case 4 when type == WireFormat.WireType.Varint:
                        limit = input.ReadUInt32();
                        break;
                    case 6 when type == WireFormat.WireType.LengthDelimited:
                        (payload, include, exclude) = ReadPayloadSelector(input.ReadBytes());
                        break;
                    case 7 when type == WireFormat.WireType.LengthDelimited:
                        (allVectors, vectorNames) = ReadVectorsSelector(input.ReadBytes());
                        break;
                    case 9 when type == WireFormat.WireType.LengthDelimited:
                        throw GrpcUnsupported("`shard_key_selector`");
                    case 10 when type == WireFormat.WireType.LengthDelimited:
                        throw GrpcUnsupported("`order_by`");
                    case 1 or 2 or 3 or 4 or 6 or 7 or 9 or 10:
                        throw Malformed($"invalid wire type {type} for field {field}");
                    default:
                        input.SkipLastField(); // read_consistency, timeout, unknown fields
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Malformed(e.Message);
        }

        if (name.Length is 0 or > 255)
            throw new GrpcError(GrpcInvalidArgument, // lib/collection/src/operations/validation.rs words a length error so
                $"Validation error in body: [collection_name: value {JsonSerializer.Serialize(name, QuotedJson)} invalid, must be from 1 to 255 characters]");
        if (limit == 0)
            throw new GrpcError(GrpcInvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]");
        if (!Find(name, out var c)) throw new GrpcError(GrpcNotFound, $"Not found: Collection `{name}` doesn't exist!");

        string[] names;
        if (vectorNames is not null)
        {
            foreach (var n in vectorNames)
            {
                if (!c.VectorNames.Contains(n)) throw new GrpcError(GrpcInvalidArgument, $"Wrong input: Not existing vector name error: {n}");
            }
            names = c.VectorNames.Where(vectorNames.Contains).ToArray();
        }
        else
        {
            names = allVectors == true ? c.VectorNames : [];
        }
        var (page, next) = c.Scroll(offset, (int)Math.Min(limit ?? 10, int.MaxValue - 1), null);
        return new GrpcScroll(c, page, next, payload, include, exclude, names);
    }

    private static PointId ReadPointId(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        PointId? id = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case 8: // num, varint
                    id = PointId.FromUnsigned(input.ReadUInt64());
                    break;
                case 18: // uuid, string
                    var text = input.ReadString();
                    if (!Guid.TryParse(text, out var g)) throw new GrpcError(GrpcInvalidArgument, $"Unable to parse UUID: {text}");
                    id = PointId.FromUuid(g);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return id ?? throw new GrpcError(GrpcInvalidArgument, "No ID options provided");
    }

    private static (bool Enabled, string[]? Include, string[]? Exclude) ReadPayloadSelector(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        (bool, string[]?, string[]?)? result = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case 8:
                    result = (input.ReadBool(), null, null);
                    break;
                case 18:
                    result = (true, ReadFields(input.ReadBytes()), null);
                    break;
                case 26:
                    result = (true, null, ReadFields(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return result ?? throw new GrpcError(GrpcInvalidArgument, "No PayloadSelector");

        static string[] ReadFields(ByteString bytes)
        {
            var fields = new List<string>();
            var input = bytes.CreateCodedInput();
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (tag == 10) fields.Add(input.ReadString());
                else input.SkipLastField();
            }
            foreach (var f in fields)
            {
                if (f.Contains('.') || f.Contains('[')) throw GrpcUnsupported($"nested payload paths (`{f}`)");
            }
            return fields.ToArray();
        }
    }

    private static (bool? All, string[]? Names) ReadVectorsSelector(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        (bool?, string[]?) result = (false, null); // a selector with no option: no vectors
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case 8:
                    result = (input.ReadBool(), null);
                    break;
                case 18:
                    var names = new List<string>();
                    var inner = input.ReadBytes().CreateCodedInput();
                    uint t;
                    while ((t = inner.ReadTag()) != 0)
                    {
                        if (t == 10) names.Add(inner.ReadString());
                        else inner.SkipLastField();
                    }
                    result = (null, names.ToArray());
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- ScrollResponse

    private static int LenField(int field, int contentLength) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(contentLength) + contentLength;

    private static int PointIdSize(PointId id) => id.Kind == PointIdKind.Unsigned
        ? 1 + CodedOutputStream.ComputeUInt64Size(id.AsUnsigned)
        : 1 + CodedOutputStream.ComputeLengthSize(36) + 36;

    private static void WritePointId(CodedOutputStream o, int field, PointId id)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(PointIdSize(id));
        if (id.Kind == PointIdKind.Unsigned)
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteUInt64(id.AsUnsigned);
        }
        else
        {
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString(id.AsUuid.ToString("D")); // Qdrant writes UUIDs hyphenated, lower case
        }
    }

    /// <summary>Sizes everything first (the message's length prefix comes before it), then writes in 64 KB chunks.</summary>
    private async Task WriteGrpcScrollAsync(GrpcScroll s, long started, Func<ReadOnlyMemory<byte>, ValueTask> send)
    {
        var page = s.Page;
        var sizes = new int[page.Count];
        var payloads = new PayloadEntry[page.Count][];
        var vectors = new ByteString?[page.Count * s.VectorNames.Length];
        var singles = new bool[page.Count];
        long total = s.Next is { } next ? LenField(1, PointIdSize(next)) : 0;
        var largest = 0;
        for (var i = 0; i < page.Count; i++)
        {
            var p = page[i];
            var size = LenField(1, PointIdSize(p.Id));
            if (s.Payload)
            {
                payloads[i] = SelectPayload(p.Payload, s.Include, s.Exclude);
                foreach (var e in payloads[i]) size += LenField(2, e.Entry.Length);
            }
            if (s.VectorNames.Length > 0)
            {
                var shown = 0;
                for (var k = 0; k < s.VectorNames.Length; k++)
                {
                    if (!p.Vectors.TryGetValue(s.VectorNames[k], out var v)) continue;
                    vectors[i * s.VectorNames.Length + k] = _grpcRendered.TryGetValue(v, out var pre) ? pre : RenderGrpc(v);
                    shown++;
                }
                singles[i] = shown == 1 && s.VectorNames.Contains("") && p.Vectors.ContainsKey("");
                size += LenField(4, VectorsOutputSize(s, vectors, i, singles[i]));
            }
            sizes[i] = size;
            total += LenField(2, size);
            largest = Math.Max(largest, LenField(2, size));
        }
        total += 9; // time: tag + double

        var prefix = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), checked((uint)total));
        await send(prefix).ConfigureAwait(false);

        var chunk = ArrayPool<byte>.Shared.Rent(Math.Max(ChunkBytes, largest + 64));
        try
        {
            var o = new CodedOutputStream(chunk);
            if (s.Next is { } n) WritePointId(o, 1, n);
            for (var i = 0; i < page.Count; i++)
            {
                if (o.SpaceLeft < LenField(2, sizes[i]))
                {
                    await send(chunk.AsMemory(0, (int)o.Position)).ConfigureAwait(false);
                    o = new CodedOutputStream(chunk);
                }
                var p = page[i];
                o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                o.WriteLength(sizes[i]);
                WritePointId(o, 1, p.Id);
                if (s.Payload)
                {
                    foreach (var e in payloads[i])
                    {
                        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                        o.WriteBytes(e.Entry);
                    }
                }
                if (s.VectorNames.Length > 0) WriteVectorsOutput(o, s, vectors, i, singles[i]);
            }
            if (o.SpaceLeft < 9)
            {
                await send(chunk.AsMemory(0, (int)o.Position)).ConfigureAwait(false);
                o = new CodedOutputStream(chunk);
            }
            o.WriteTag(3, WireFormat.WireType.Fixed64);
            o.WriteDouble(Stopwatch.GetElapsedTime(started).TotalSeconds);
            await send(chunk.AsMemory(0, (int)o.Position)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static int NamedEntrySize(string name, ByteString vector) =>
        (name.Length == 0 ? 0 : 1 + CodedOutputStream.ComputeStringSize(name)) + LenField(2, vector.Length);

    /// <summary>The content size of a point's VectorsOutput: the bare <c>vector</c>, or the <c>vectors</c> map.</summary>
    private static int VectorsOutputSize(GrpcScroll s, ByteString?[] vectors, int i, bool single)
    {
        var names = s.VectorNames;
        if (single) return LenField(1, vectors[i * names.Length + Array.IndexOf(names, "")]!.Length);
        var map = 0;
        for (var k = 0; k < names.Length; k++)
        {
            if (vectors[i * names.Length + k] is { } v) map += LenField(1, NamedEntrySize(names[k], v));
        }
        return LenField(2, map);
    }

    private static void WriteVectorsOutput(CodedOutputStream o, GrpcScroll s, ByteString?[] vectors, int i, bool single)
    {
        var names = s.VectorNames;
        o.WriteTag(4, WireFormat.WireType.LengthDelimited);
        o.WriteLength(VectorsOutputSize(s, vectors, i, single));
        if (single)
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(vectors[i * names.Length + Array.IndexOf(names, "")]!);
            return;
        }
        var map = 0;
        for (var k = 0; k < names.Length; k++)
        {
            if (vectors[i * names.Length + k] is { } v) map += LenField(1, NamedEntrySize(names[k], v));
        }
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteLength(map);
        for (var k = 0; k < names.Length; k++)
        {
            if (vectors[i * names.Length + k] is not { } v) continue;
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteLength(NamedEntrySize(names[k], v));
            if (names[k].Length > 0)
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                o.WriteString(names[k]);
            }
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(v);
        }
    }

    /// <summary>The content of a VectorOutput: only the oneof (dense 101, sparse 102, multi_dense 103) is set.</summary>
    private static ByteString RenderGrpc(VectorValue v)
    {
        int PackedFloats(float[] f) => f.Length == 0 ? 0 : LenField(1, 4 * f.Length);
        int SparseSize(SparseVector sv)
        {
            var size = PackedFloats(sv.Values);
            if (sv.Indices.Length > 0)
            {
                var idx = 0;
                foreach (var x in sv.Indices) idx += CodedOutputStream.ComputeUInt32Size(x);
                size += LenField(2, idx);
            }
            return size;
        }
        void WriteFloats(CodedOutputStream o, int field, float[] f)
        {
            if (f.Length == 0) return;
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteLength(4 * f.Length);
            foreach (var x in f) o.WriteFloat(x);
        }

        int content;
        switch (v)
        {
            case DenseVector d:
                content = LenField(101, PackedFloats(d.Values));
                break;
            case SparseVector sv:
                content = LenField(102, SparseSize(sv));
                break;
            case MultiVector m:
                var rows = 0;
                foreach (var row in m.Vectors) rows += LenField(1, PackedFloats(row));
                content = LenField(103, rows);
                break;
            default:
                throw new NotSupportedException(v.GetType().Name);
        }
        var bytes = new byte[content];
        var o = new CodedOutputStream(bytes);
        switch (v)
        {
            case DenseVector d:
                o.WriteTag(101, WireFormat.WireType.LengthDelimited);
                o.WriteLength(PackedFloats(d.Values));
                WriteFloats(o, 1, d.Values);
                break;
            case SparseVector sv:
                o.WriteTag(102, WireFormat.WireType.LengthDelimited);
                o.WriteLength(SparseSize(sv));
                WriteFloats(o, 1, sv.Values);
                if (sv.Indices.Length > 0)
                {
                    var idx = 0;
                    foreach (var x in sv.Indices) idx += CodedOutputStream.ComputeUInt32Size(x);
                    o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    o.WriteLength(idx);
                    foreach (var x in sv.Indices) o.WriteUInt32(x);
                }
                break;
            case MultiVector m:
                var rows = 0;
                foreach (var row in m.Vectors) rows += LenField(1, PackedFloats(row));
                o.WriteTag(103, WireFormat.WireType.LengthDelimited);
                o.WriteLength(rows);
                foreach (var row in m.Vectors)
                {
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    o.WriteLength(PackedFloats(row));
                    WriteFloats(o, 1, row);
                }
                break;
        }
        o.CheckNoSpaceLeft();
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    // ---------------------------------------------------------------- payload: JSON → qdrant.Value

    private PayloadEntry[] SelectPayload(byte[]? payload, string[]? include, string[]? exclude)
    {
        if (payload is null) return [];
        var all = _grpcPayloads.GetValue(payload, EncodePayload);
        if (include is not null) return all.Where(e => include.Contains(e.Key)).ToArray();
        if (exclude is not null) return all.Where(e => !exclude.Contains(e.Key)).ToArray();
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
            entries.Add(new PayloadEntry(p.Name, UnsafeByteOperations.UnsafeWrap(MapEntry(p.Name, Value(p.Value)))));
        }
        return entries.ToArray();
    }

    /// <summary>A <c>map&lt;string, Value&gt;</c> entry's content: key (left out when empty) = 1, value = 2.</summary>
    private static byte[] MapEntry(string key, byte[] value)
    {
        var size = (key.Length == 0 ? 0 : 1 + CodedOutputStream.ComputeStringSize(key)) + LenField(2, value.Length);
        var bytes = new byte[size];
        var o = new CodedOutputStream(bytes);
        if (key.Length > 0)
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(key);
        }
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
        o.CheckNoSpaceLeft();
        return bytes;
    }

    /// <summary>A qdrant.Value's content (json_with_int.proto), as lib/api/src/conversions/json.rs json_to_proto maps JSON.</summary>
    private static byte[] Value(JsonElement e)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms, leaveOpen: true);
        switch (e.ValueKind)
        {
            case JsonValueKind.Null:
                o.WriteTag(1, WireFormat.WireType.Varint);
                o.WriteEnum(0);
                break;
            case JsonValueKind.Number:
                var raw = e.GetRawText();
                if (raw == "-0")
                {
                    o.WriteTag(2, WireFormat.WireType.Fixed64);
                    o.WriteDouble(-0.0);
                }
                else if (e.TryGetInt64(out var l))
                {
                    o.WriteTag(3, WireFormat.WireType.Varint);
                    o.WriteInt64(l);
                }
                else
                {
                    o.WriteTag(2, WireFormat.WireType.Fixed64);
                    o.WriteDouble(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
                }
                break;
            case JsonValueKind.String:
                o.WriteTag(4, WireFormat.WireType.LengthDelimited);
                o.WriteString(e.GetString()!);
                break;
            case JsonValueKind.True or JsonValueKind.False:
                o.WriteTag(5, WireFormat.WireType.Varint);
                o.WriteBool(e.ValueKind == JsonValueKind.True);
                break;
            case JsonValueKind.Object:
                using (var fields = new MemoryStream())
                {
                    var last = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    var order = new List<string>();
                    foreach (var p in e.EnumerateObject())
                    {
                        if (!last.ContainsKey(p.Name)) order.Add(p.Name);
                        last[p.Name] = MapEntry(p.Name, Value(p.Value));
                    }
                    var inner = new CodedOutputStream(fields, leaveOpen: true);
                    foreach (var k in order)
                    {
                        inner.WriteTag(1, WireFormat.WireType.LengthDelimited);
                        inner.WriteBytes(UnsafeByteOperations.UnsafeWrap(last[k]));
                    }
                    inner.Flush();
                    o.WriteTag(6, WireFormat.WireType.LengthDelimited);
                    o.WriteBytes(UnsafeByteOperations.UnsafeWrap(fields.ToArray()));
                }
                break;
            case JsonValueKind.Array:
                using (var values = new MemoryStream())
                {
                    var inner = new CodedOutputStream(values, leaveOpen: true);
                    foreach (var x in e.EnumerateArray())
                    {
                        inner.WriteTag(1, WireFormat.WireType.LengthDelimited);
                        inner.WriteBytes(UnsafeByteOperations.UnsafeWrap(Value(x)));
                    }
                    inner.Flush();
                    o.WriteTag(7, WireFormat.WireType.LengthDelimited);
                    o.WriteBytes(UnsafeByteOperations.UnsafeWrap(values.ToArray()));
                }
                break;
        }
        o.Flush();
        return ms.ToArray();
    }
}
