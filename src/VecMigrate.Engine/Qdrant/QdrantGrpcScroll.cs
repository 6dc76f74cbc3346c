using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// Qdrant's gRPC scroll (<c>qdrant.Points/Scroll</c>) on the wire: the ScrollPoints request written by hand, and
/// the ScrollResponse read straight into records. Dense floats arrive as packed little-endian float32 and are
/// block-copied, so a vector is bit for bit what the server holds. Payload (<c>map&lt;string, Value&gt;</c>)
/// becomes compact JSON with its keys in wire order. Field numbers follow Qdrant's points.proto and
/// json_with_int.proto; fields this reader does not know are skipped by wire type.
/// </summary>
internal static class QdrantGrpcScroll
{
    /// <summary>The gRPC method path under the gRPC root.</summary>
    public const string MethodPath = "qdrant.Points/Scroll";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Non-ASCII stays UTF-8 as Qdrant's REST answers have it; control characters (\u0000 among them) are
        // still written as \uXXXX escapes, so the sink sees and refuses them as it does for REST.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 1024,
    };

    /// <summary>ScrollPoints, framed for gRPC. A filter is refused before this is called.</summary>
    public static byte[] WriteRequest(string collection, QdrantScrollRequest request)
    {
        var w = new ProtoWriter();
        w.WriteString(1, collection);
        if (request.Offset is { } offset)
        {
            var id = new ProtoWriter();
            if (offset.Kind == PointIdKind.Unsigned) id.WriteUInt64(1, offset.AsUnsigned);
            else id.WriteString(2, offset.AsUuid.ToString("D"));
            w.WriteMessage(3, id);
        }
        w.WriteUInt64(4, (ulong)request.Limit);
        w.WriteMessage(6, Selector(request.WithPayload));
        w.WriteMessage(7, Selector(request.WithVector));
        return w.ToGrpcFrame();
    }

    // WithPayloadSelector and WithVectorsSelector share the shape: enable = 1 (bool), include = 2 (a message
    // with repeated string = 1).
    private static ProtoWriter Selector(QdrantSelection selection)
    {
        var s = new ProtoWriter();
        if (selection.Names is null)
        {
            s.WriteBool(1, selection.Enabled);
            return s;
        }
        var names = new ProtoWriter();
        foreach (var n in selection.Names) names.WriteString(1, n);
        s.WriteMessage(2, names);
        return s;
    }

    private sealed class Context(RecordStamp stamp, bool withPayload, Func<string, Exception?, Exception> invalid)
    {
        public readonly RecordStamp Stamp = stamp;
        public readonly bool WithPayload = withPayload;
        public readonly Func<string, Exception?, Exception> Invalid = invalid;
        public readonly ArrayBufferWriter<byte> Json = new(1024);
        public readonly List<(int Start, int Length)> PayloadEntries = new();
        public readonly List<uint> Indices = new();
        /// <summary>Vector names seen in this answer, as UTF-8 and as string: one string per name, not per point.</summary>
        public readonly List<(byte[] Utf8, string Name)> Names = new();
        public int PointIndex = -1;
        public PointId CurrentId;

        public Exception PointError(string what) => Invalid(Where() + what, null);

        public string Where() => PointIndex < 0 ? "" : CurrentId.IsValid ? $"point #{PointIndex} (id {CurrentId}): " : $"point #{PointIndex}: ";

        public string Name(ReadOnlySpan<byte> utf8)
        {
            foreach (var (bytes, name) in Names)
            {
                if (utf8.SequenceEqual(bytes)) return name;
            }
            string text;
            try
            {
                text = ProtoReader.Strict.GetString(utf8);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new ProtoFormatException("a vector name is not valid UTF-8");
            }
            if (Stamp.Schema is { } schema)
            {
                foreach (var field in schema.Vectors)
                {
                    if (field.Name == text) text = field.Name;
                }
            }
            Names.Add((utf8.ToArray(), text));
            return text;
        }
    }

    /// <summary>
    /// Reads one ScrollResponse message (without the gRPC frame). <paramref name="withPayload"/> says whether payload
    /// was asked for: protobuf cannot tell an empty map from an absent one, so a point asked for its payload gets
    /// <c>{}</c> when it has none, as over REST.
    /// </summary>
    public static QdrantScrollPage Parse(ReadOnlySpan<byte> message, RecordStamp stamp, bool withPayload, Func<string, Exception?, Exception> invalid)
    {
        var ctx = new Context(stamp, withPayload, invalid);
        try
        {
            var r = new ProtoReader(message);
            var points = new List<VectorRecord>();
            PointId? next = null;
            while (r.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == WireType.Len:
                        var offset = r.ReadMessage();
                        next = ReadId(ref offset, "`next_page_offset`");
                        break;
                    case 2 when wire == WireType.Len:
                        ctx.PointIndex = points.Count;
                        ctx.CurrentId = default;
                        var point = r.ReadMessage();
                        points.Add(ReadPoint(ref point, ctx));
                        ctx.PointIndex = -1;
                        break;
                    default:
                        r.Skip(wire, field); // time, usage, and whatever later versions add
                        break;
                }
            }
            return new QdrantScrollPage(points, next);
        }
        catch (ProtoFormatException ex)
        {
            throw invalid($"{ctx.Where()}the protobuf answer is malformed ({ex.Message})", ex);
        }
    }

    private static PointId ReadId(ref ProtoReader r, string where)
    {
        PointId id = default;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Varint:
                    id = PointId.FromUnsigned(r.ReadVarint());
                    break;
                case 2 when wire == WireType.Len:
                    var text = r.ReadString();
                    if (!Guid.TryParse(text, out var g))
                        throw new ProtoFormatException($"{where} \"{(text.Length <= 80 ? text : text[..80] + "…")}\" is not a UUID");
                    id = PointId.FromUuid(g);
                    break;
                default:
                    r.Skip(wire, field);
                    break;
            }
        }
        return id.IsValid ? id : throw new ProtoFormatException($"{where} is neither a number nor a UUID");
    }

    private static VectorRecord ReadPoint(ref ProtoReader r, Context ctx)
    {
        Dictionary<string, VectorValue>? vectors = null;
        ctx.PayloadEntries.Clear();
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Len:
                    var id = r.ReadMessage();
                    ctx.CurrentId = ReadId(ref id, "`id`");
                    break;
                case 2 when wire == WireType.Len:
                    ctx.PayloadEntries.Add(r.ReadLengthDelimited());
                    break;
                case 4 when wire == WireType.Len:
                    var v = r.ReadMessage();
                    vectors = ReadVectors(ref v, ctx);
                    break;
                default:
                    r.Skip(wire, field); // shard_key, order_value, ...
                    break;
            }
        }
        if (!ctx.CurrentId.IsValid) throw ctx.PointError("has no `id`");
        JsonPayload? payload = null;
        if (ctx.WithPayload || ctx.PayloadEntries.Count > 0)
        {
            payload = new JsonPayload(WritePayload(ref r, ctx));
        }
        var stamp = ctx.Stamp;
        return new VectorRecord(ctx.CurrentId, vectors, payload)
        {
            Schema = stamp.Schema,
            Origin = stamp.Origin,
            Position = stamp.WithPosition ? QdrantSource.PositionOf(ctx.CurrentId) : null,
        };
    }

    // ---- vectors ----

    private static Dictionary<string, VectorValue> ReadVectors(ref ProtoReader r, Context ctx)
    {
        var vectors = new Dictionary<string, VectorValue>(1, StringComparer.Ordinal);
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Len: // one unnamed vector
                    var single = r.ReadMessage();
                    vectors.Clear();
                    vectors[VectorRecord.DefaultVectorName] = ReadVector(ref single, ctx, VectorRecord.DefaultVectorName);
                    break;
                case 2 when wire == WireType.Len: // NamedVectorsOutput { map<string, VectorOutput> vectors = 1 }
                    var named = r.ReadMessage();
                    vectors.Clear();
                    while (named.TryReadTag(out var f, out var w))
                    {
                        if (f != 1 || w != WireType.Len)
                        {
                            named.Skip(w, f);
                            continue;
                        }
                        var entry = named.ReadMessage();
                        string name = VectorRecord.DefaultVectorName;
                        (int Start, int Length)? value = null;
                        while (entry.TryReadTag(out var ef, out var ew))
                        {
                            if (ef == 1 && ew == WireType.Len) name = ctx.Name(entry.ReadBytes());
                            else if (ef == 2 && ew == WireType.Len) value = entry.ReadLengthDelimited();
                            else entry.Skip(ew, ef);
                        }
                        if (value is null) throw ctx.PointError($"vector \"{name}\" has no value");
                        var vr = entry.At(value.Value);
                        if (!vectors.TryAdd(name, ReadVector(ref vr, ctx, name))) throw ctx.PointError($"vector \"{name}\" appears twice");
                    }
                    break;
                default:
                    r.Skip(wire, field);
                    break;
            }
        }
        return vectors;
    }

    /// <summary>
    /// VectorOutput in any form the proto allows: the <c>dense</c>/<c>sparse</c>/<c>multi_dense</c> oneof (what
    /// recent servers send), or the deprecated flat form — <c>data</c> alone (dense), with <c>indices</c>
    /// (sparse), or with <c>vectors_count</c> (a multivector of that many rows, flattened).
    /// </summary>
    private static VectorValue ReadVector(ref ProtoReader r, Context ctx, string name)
    {
        var data = new FloatList();
        uint[]? flatIndices = null;
        uint? vectorsCount = null;
        VectorValue? oneof = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    r.ReadFloats(wire, ref data);
                    break;
                case 2 when wire == WireType.Len: // SparseIndices { repeated uint32 data = 1 }
                    var si = r.ReadMessage();
                    flatIndices = ReadIndices(ref si, ctx, 1);
                    break;
                case 3 when wire == WireType.Varint:
                    vectorsCount = r.ReadUInt32Varint();
                    break;
                case 101 when wire == WireType.Len:
                    var dense = r.ReadMessage();
                    oneof = new DenseVector(ReadDense(ref dense));
                    break;
                case 102 when wire == WireType.Len:
                    var sparse = r.ReadMessage();
                    oneof = ReadSparse(ref sparse, ctx, name);
                    break;
                case 103 when wire == WireType.Len:
                    var multi = r.ReadMessage();
                    oneof = ReadMulti(ref multi, ctx, name);
                    break;
                default:
                    r.Skip(wire, field);
                    break;
            }
        }
        if (oneof is not null) return oneof;
        var values = data.ToArray();
        if (flatIndices is not null)
        {
            if (flatIndices.Length != values.Length)
                throw ctx.PointError($"sparse vector \"{name}\" has {flatIndices.Length} indices but {values.Length} values");
            return new SparseVector(flatIndices, values);
        }
        if (vectorsCount is { } count)
        {
            if (count == 0 || values.Length % count != 0)
                throw ctx.PointError($"multivector \"{name}\" has {values.Length} numbers, not a whole number of {count} rows");
            var dim = values.Length / (int)count;
            var rows = new float[count][];
            for (var i = 0; i < rows.Length; i++) rows[i] = values.AsSpan(i * dim, dim).ToArray();
            return new MultiVector(rows);
        }
        return new DenseVector(values);
    }

    /// <summary>DenseVector { repeated float data = 1 }.</summary>
    private static float[] ReadDense(ref ProtoReader r)
    {
        var data = new FloatList();
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1) r.ReadFloats(wire, ref data);
            else r.Skip(wire, field);
        }
        return data.ToArray();
    }

    private static uint[] ReadIndices(ref ProtoReader r, Context ctx, int indicesField)
    {
        ctx.Indices.Clear();
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == indicesField) r.ReadUInt32s(wire, ctx.Indices);
            else r.Skip(wire, field);
        }
        return ctx.Indices.ToArray();
    }

    /// <summary>SparseVector { repeated float values = 1; repeated uint32 indices = 2 }.</summary>
    private static SparseVector ReadSparse(ref ProtoReader r, Context ctx, string name)
    {
        var values = new FloatList();
        ctx.Indices.Clear();
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1) r.ReadFloats(wire, ref values);
            else if (field == 2) r.ReadUInt32s(wire, ctx.Indices);
            else r.Skip(wire, field);
        }
        var v = values.ToArray();
        if (ctx.Indices.Count != v.Length)
            throw ctx.PointError($"sparse vector \"{name}\" has {ctx.Indices.Count} indices but {v.Length} values");
        return new SparseVector(ctx.Indices.ToArray(), v);
    }

    /// <summary>MultiDenseVector { repeated DenseVector vectors = 1 }.</summary>
    private static MultiVector ReadMulti(ref ProtoReader r, Context ctx, string name)
    {
        var rows = new List<float[]>();
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.Len)
            {
                var d = r.ReadMessage();
                var row = ReadDense(ref d);
                if (rows.Count > 0 && row.Length != rows[0].Length)
                    throw ctx.PointError($"multivector \"{name}\" has rows of {rows[0].Length} and {row.Length} dimensions");
                rows.Add(row);
            }
            else r.Skip(wire, field);
        }
        if (rows.Count == 0) throw ctx.PointError($"multivector \"{name}\" has no rows");
        return new MultiVector(rows.ToArray());
    }

    // ---- payload ----

    private static byte[] WritePayload(ref ProtoReader r, Context ctx)
    {
        ctx.Json.Clear();
        using (var w = new Utf8JsonWriter(ctx.Json, WriterOptions))
        {
            w.WriteStartObject();
            foreach (var entry in ctx.PayloadEntries)
            {
                var e = r.At(entry);
                WriteEntry(ref e, w, ctx, 0);
            }
            w.WriteEndObject();
        }
        return ctx.Json.WrittenSpan.ToArray();
    }

    /// <summary>A map entry { string key = 1; Value value = 2 } as one JSON property.</summary>
    private static void WriteEntry(ref ProtoReader r, Utf8JsonWriter w, Context ctx, int depth)
    {
        ReadOnlySpan<byte> key = default;
        (int Start, int Length)? value = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.Len) key = r.ReadBytes();
            else if (field == 2 && wire == WireType.Len) value = r.ReadLengthDelimited();
            else r.Skip(wire, field);
        }
        // Checked here: the JSON writer would quietly put U+FFFD in place of bytes that are not UTF-8.
        if (!Utf8.IsValid(key)) throw new ProtoFormatException("a payload key is not valid UTF-8");
        w.WritePropertyName(key);
        if (value is null)
        {
            w.WriteNullValue(); // an entry without a value is the default Value
            return;
        }
        var v = r.At(value.Value);
        WriteValue(ref v, w, ctx, depth + 1);
    }

    /// <summary>
    /// Value { null_value = 1; double_value = 2; integer_value = 3 (int64); string_value = 4; bool_value = 5;
    /// struct_value = 6 (Struct { map fields = 1 }); list_value = 7 (ListValue { repeated Value values = 1 }) }.
    /// The last member present wins, as protobuf's oneof rule has it; a Value with none is written as null.
    /// </summary>
    private static void WriteValue(ref ProtoReader r, Utf8JsonWriter w, Context ctx, int depth)
    {
        if (depth > 1000) throw ctx.PointError("the payload is nested deeper than 1000 levels");
        var kind = 0;
        ulong bits = 0;
        (int Start, int Length) bytes = default;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Varint:
                case 3 when wire == WireType.Varint:
                case 5 when wire == WireType.Varint:
                    bits = r.ReadVarint();
                    kind = field;
                    break;
                case 2 when wire == WireType.Fixed64:
                    bits = r.ReadFixed64();
                    kind = field;
                    break;
                case 4 when wire == WireType.Len:
                case 6 when wire == WireType.Len:
                case 7 when wire == WireType.Len:
                    bytes = r.ReadLengthDelimited();
                    kind = field;
                    break;
                default:
                    r.Skip(wire, field);
                    break;
            }
        }
        switch (kind)
        {
            case 0:
            case 1:
                w.WriteNullValue();
                break;
            case 2:
                var d = BitConverter.UInt64BitsToDouble(bits);
                if (!double.IsFinite(d)) throw ctx.PointError($"a payload number is {d}, which JSON cannot hold");
                w.WriteNumberValue(d); // the shortest text that reads back as the same double
                break;
            case 3:
                w.WriteNumberValue((long)bits);
                break;
            case 5:
                w.WriteBooleanValue(bits != 0);
                break;
            case 4:
                var text = r.Slice(bytes);
                if (!Utf8.IsValid(text)) throw new ProtoFormatException("a payload string is not valid UTF-8");
                w.WriteStringValue(text);
                break;
            case 6:
                var s = r.At(bytes);
                w.WriteStartObject();
                while (s.TryReadTag(out var f, out var wt))
                {
                    if (f == 1 && wt == WireType.Len)
                    {
                        var entry = s.ReadMessage();
                        WriteEntry(ref entry, w, ctx, depth);
                    }
                    else s.Skip(wt, f);
                }
                w.WriteEndObject();
                break;
            case 7:
                var l = r.At(bytes);
                w.WriteStartArray();
                while (l.TryReadTag(out var f, out var wt))
                {
                    if (f == 1 && wt == WireType.Len)
                    {
                        var item = l.ReadMessage();
                        WriteValue(ref item, w, ctx, depth + 1);
                    }
                    else l.Skip(wt, f);
                }
                w.WriteEndArray();
                break;
        }
    }
}
