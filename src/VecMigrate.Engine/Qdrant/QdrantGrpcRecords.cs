using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;
using VecMigrate.Engine.Records;
using GrpcPointId = Qdrant.Client.Grpc.PointId;
using DenseVector = VecMigrate.Engine.Records.DenseVector;
using PointId = VecMigrate.Engine.Records.PointId;
using SparseVector = VecMigrate.Engine.Records.SparseVector;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// The official client's gRPC messages (Qdrant.Client.Grpc, generated from Qdrant's own .proto files) and the
/// engine's records, both ways: a ScrollResponse's points become <see cref="VectorRecord"/>s exactly as the REST
/// parser makes them (dense floats bit for bit, sparse and multivectors, named vectors, payload as compact JSON in
/// the order the server sent its keys), and a point's id, selectors and payload go the other way.
/// </summary>
internal static class QdrantGrpcRecords
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Non-ASCII stays UTF-8 as Qdrant's REST answers have it; control characters (\u0000 among them) are
        // still written as \uXXXX escapes, so the sink sees and refuses them as it does for REST.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 1024,
    };

    public static GrpcPointId ToGrpc(PointId id) => id.Kind == PointIdKind.Unsigned
        ? new GrpcPointId { Num = id.AsUnsigned }
        : new GrpcPointId { Uuid = id.AsUuid.ToString("D") };

    public static WithPayloadSelector PayloadSelector(QdrantSelection selection)
    {
        if (selection.Names is null) return new WithPayloadSelector { Enable = selection.Enabled };
        var include = new PayloadIncludeSelector();
        include.Fields.AddRange(selection.Names);
        return new WithPayloadSelector { Include = include };
    }

    public static WithVectorsSelector VectorsSelector(QdrantSelection selection)
    {
        if (selection.Names is null) return new WithVectorsSelector { Enable = selection.Enabled };
        var include = new VectorsSelector();
        include.Names.AddRange(selection.Names);
        return new WithVectorsSelector { Include = include };
    }

    private sealed class Context(RecordStamp stamp, bool withPayload, Func<string, Exception?, Exception> invalid)
    {
        public readonly RecordStamp Stamp = stamp;
        public readonly bool WithPayload = withPayload;
        public readonly ArrayBufferWriter<byte> Json = new(1024);
        public int PointIndex = -1;
        public PointId CurrentId;

        public Exception PointError(string what) => invalid(Where() + what, null);

        public Exception Invalid(string what) => invalid(what, null);

        public string Where() => PointIndex < 0 ? "" : CurrentId.IsValid ? $"point #{PointIndex} (id {CurrentId}): " : $"point #{PointIndex}: ";

        /// <summary>The schema's own string for a vector name, so that records of one read share it.</summary>
        public string Name(string name)
        {
            if (Stamp.Schema is { } schema)
            {
                foreach (var field in schema.Vectors)
                {
                    if (field.Name == name) return field.Name;
                }
            }
            return name;
        }
    }

    /// <summary>
    /// One ScrollResponse as a page of records. <paramref name="withPayload"/> says whether payload was asked for:
    /// protobuf cannot tell an empty map from an absent one, so a point asked for its payload gets <c>{}</c> when it
    /// has none, as over REST.
    /// </summary>
    public static QdrantScrollPage ReadPage(ScrollResponse answer, RecordStamp stamp, bool withPayload, Func<string, Exception?, Exception> invalid)
    {
        var ctx = new Context(stamp, withPayload, invalid);
        PointId? next = answer.NextPageOffset is { } offset ? ReadId(offset, ctx, "`next_page_offset`") : (PointId?)null;
        var points = new List<VectorRecord>(answer.Result.Count);
        foreach (var point in answer.Result)
        {
            ctx.PointIndex = points.Count;
            ctx.CurrentId = default;
            points.Add(ReadPoint(point, ctx));
        }
        return new QdrantScrollPage(points, next);
    }

    private static PointId ReadId(GrpcPointId id, Context ctx, string where)
    {
        switch (id.PointIdOptionsCase)
        {
            case GrpcPointId.PointIdOptionsOneofCase.Num:
                return PointId.FromUnsigned(id.Num);
            case GrpcPointId.PointIdOptionsOneofCase.Uuid:
                if (Guid.TryParse(id.Uuid, out var g)) return PointId.FromUuid(g);
                var text = id.Uuid;
                throw ctx.PointError($"{where} \"{(text.Length <= 80 ? text : text[..80] + "…")}\" is not a UUID");
            default:
                throw ctx.PointError($"{where} is neither a number nor a UUID");
        }
    }

    private static VectorRecord ReadPoint(RetrievedPoint point, Context ctx)
    {
        if (point.Id is null) throw ctx.PointError("has no `id`");
        ctx.CurrentId = ReadId(point.Id, ctx, "`id`");
        Dictionary<string, VectorValue>? vectors = point.Vectors is { } v ? ReadVectors(v, ctx) : null;
        JsonPayload? payload = ctx.WithPayload || point.Payload.Count > 0 ? new JsonPayload(WritePayload(point.Payload, ctx)) : null;
        var stamp = ctx.Stamp;
        return new VectorRecord(ctx.CurrentId, vectors, payload)
        {
            Schema = stamp.Schema,
            Origin = stamp.Origin,
            Position = stamp.WithPosition ? QdrantSource.PositionOf(ctx.CurrentId) : null,
        };
    }

    // ---- vectors ----

    private static Dictionary<string, VectorValue> ReadVectors(VectorsOutput output, Context ctx)
    {
        var vectors = new Dictionary<string, VectorValue>(1, StringComparer.Ordinal);
        switch (output.VectorsOptionsCase)
        {
            case VectorsOutput.VectorsOptionsOneofCase.Vector:
                vectors[VectorRecord.DefaultVectorName] = ReadVector(output.Vector, ctx, VectorRecord.DefaultVectorName);
                break;
            case VectorsOutput.VectorsOptionsOneofCase.Vectors:
                foreach (var (key, value) in output.Vectors.Vectors)
                {
                    var name = ctx.Name(key);
                    if (value is null) throw ctx.PointError($"vector \"{name}\" has no value");
                    vectors[name] = ReadVector(value, ctx, name);
                }
                break;
        }
        return vectors;
    }

    /// <summary>
    /// VectorOutput in any form the proto allows: the <c>dense</c>/<c>sparse</c>/<c>multi_dense</c> oneof (what
    /// recent servers send), or the deprecated flat form — <c>data</c> alone (dense), with <c>indices</c>
    /// (sparse), or with <c>vectors_count</c> (a multivector of that many rows, flattened).
    /// </summary>
#pragma warning disable CS0612 // the deprecated flat fields are still what older servers send
    private static VectorValue ReadVector(VectorOutput v, Context ctx, string name)
    {
        switch (v.VectorCase)
        {
            case VectorOutput.VectorOneofCase.Dense:
                return new DenseVector(ToArray(v.Dense.Data));
            case VectorOutput.VectorOneofCase.Sparse:
                return Sparse(v.Sparse.Indices, v.Sparse.Values, ctx, name);
            case VectorOutput.VectorOneofCase.MultiDense:
                var rows = new float[v.MultiDense.Vectors.Count][];
                for (var i = 0; i < rows.Length; i++)
                {
                    rows[i] = ToArray(v.MultiDense.Vectors[i].Data);
                    if (i > 0 && rows[i].Length != rows[0].Length)
                        throw ctx.PointError($"multivector \"{name}\" has rows of {rows[0].Length} and {rows[i].Length} dimensions");
                }
                if (rows.Length == 0) throw ctx.PointError($"multivector \"{name}\" has no rows");
                return new MultiVector(rows);
        }
        if (v.Indices is not null) return Sparse(v.Indices.Data, v.Data, ctx, name);
        if (v.HasVectorsCount)
        {
            var values = v.Data;
            var count = v.VectorsCount;
            if (count == 0 || values.Count % count != 0)
                throw ctx.PointError($"multivector \"{name}\" has {values.Count} numbers, not a whole number of {count} rows");
            var dim = values.Count / (int)count;
            var all = ToArray(values);
            var rows = new float[count][];
            for (var i = 0; i < rows.Length; i++) rows[i] = all.AsSpan(i * dim, dim).ToArray();
            return new MultiVector(rows);
        }
        return new DenseVector(ToArray(v.Data));
    }
#pragma warning restore CS0612

    private static SparseVector Sparse(RepeatedField<uint> indices, RepeatedField<float> values, Context ctx, string name)
    {
        if (indices.Count != values.Count)
            throw ctx.PointError($"sparse vector \"{name}\" has {indices.Count} indices but {values.Count} values");
        var idx = new uint[indices.Count];
        indices.CopyTo(idx, 0);
        return new SparseVector(idx, ToArray(values));
    }

    /// <summary>
    /// The floats of a message's list as an array. The message is dropped right after it is read, so when the list's
    /// own array holds exactly its values (Google.Protobuf sizes it exactly for a packed run of 8 or more) that array
    /// is taken as it is; otherwise one block copy. Measured on the benchmark's gRPC case (200,000 × 1,024-d): the
    /// copy doubled what a read allocates (2.47 GB against 1.05 GB for the hand-written reader before) and took
    /// more CPU in the collector than in the parser.
    /// </summary>
    private static float[] ToArray(RepeatedField<float> values)
    {
        if (FloatArrayOf is { } take && take(values) is { } own && own.Length == values.Count) return own;
        var array = new float[values.Count];
        values.CopyTo(array, 0);
        return array;
    }

    /// <summary>Whether vectors are taken from the messages without a copy (a test keeps this from being lost unseen on an upgrade).</summary>
    internal static bool TakesListArrays => FloatArrayOf is not null;

    /// <summary>RepeatedField&lt;float&gt;'s private array, or null where this version of Google.Protobuf has none by that name.</summary>
    private static readonly Func<RepeatedField<float>, float[]>? FloatArrayOf = MakeArrayAccessor();

    private static Func<RepeatedField<float>, float[]>? MakeArrayAccessor()
    {
        var field = typeof(RepeatedField<float>).GetField("array", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
        if (field is null || field.FieldType != typeof(float[])) return null;
        var list = System.Linq.Expressions.Expression.Parameter(typeof(RepeatedField<float>));
        return System.Linq.Expressions.Expression.Lambda<Func<RepeatedField<float>, float[]>>(System.Linq.Expressions.Expression.Field(list, field), list).Compile();
    }

    // ---- payload ----

    private static byte[] WritePayload(MapField<string, Value> payload, Context ctx)
    {
        ctx.Json.Clear();
        using (var w = new Utf8JsonWriter(ctx.Json, WriterOptions))
        {
            WriteObject(payload, w, ctx, 0);
        }
        return ctx.Json.WrittenSpan.ToArray();
    }

    // MapField keeps the order the entries came in, which is the server's.
    private static void WriteObject(MapField<string, Value> fields, Utf8JsonWriter w, Context ctx, int depth)
    {
        w.WriteStartObject();
        foreach (var (key, value) in fields)
        {
            w.WritePropertyName(key);
            WriteValue(value, w, ctx, depth + 1);
        }
        w.WriteEndObject();
    }

    /// <summary>qdrant.Value (json_with_int.proto) as JSON; a Value with no member set is null.</summary>
    private static void WriteValue(Value? value, Utf8JsonWriter w, Context ctx, int depth)
    {
        if (depth > 1000) throw ctx.PointError("the payload is nested deeper than 1000 levels");
        switch (value?.KindCase ?? Value.KindOneofCase.None)
        {
            case Value.KindOneofCase.DoubleValue:
                var d = value!.DoubleValue;
                if (!double.IsFinite(d)) throw ctx.PointError($"a payload number is {d}, which JSON cannot hold");
                w.WriteNumberValue(d); // the shortest text that reads back as the same double
                break;
            case Value.KindOneofCase.IntegerValue:
                w.WriteNumberValue(value!.IntegerValue);
                break;
            case Value.KindOneofCase.StringValue:
                w.WriteStringValue(value!.StringValue);
                break;
            case Value.KindOneofCase.BoolValue:
                w.WriteBooleanValue(value!.BoolValue);
                break;
            case Value.KindOneofCase.StructValue:
                WriteObject(value!.StructValue.Fields, w, ctx, depth);
                break;
            case Value.KindOneofCase.ListValue:
                w.WriteStartArray();
                foreach (var item in value!.ListValue.Values) WriteValue(item, w, ctx, depth + 1);
                w.WriteEndArray();
                break;
            default:
                w.WriteNullValue();
                break;
        }
    }

    // ---- upserts: the REST body the sink built, as the official client's UpsertPoints ----

    /// <summary>
    /// The <c>{"points":[{id, vector, payload}]}</c> body <see cref="QdrantSink"/> builds (checked, batched and sized
    /// for REST) as an UpsertPoints message: the same points, vectors and payloads. Floats in the body are the shortest
    /// text of each float32, so they parse back bit for bit. A payload integer beyond int64 cannot travel in
    /// qdrant.Value (it has only int64 and double): the batch is refused naming the point, before anything is sent,
    /// rather than storing a rounded number.
    /// </summary>
    public static UpsertPoints Upsert(string collection, ReadOnlySpan<byte> body, bool wait, Func<string, Exception> invalid)
    {
        var message = new UpsertPoints { CollectionName = collection, Wait = wait };
        var reader = new Utf8JsonReader(body);
        using var doc = JsonDocument.ParseValue(ref reader);
        foreach (var p in doc.RootElement.GetProperty("points").EnumerateArray())
        {
            var point = new PointStruct();
            var id = p.GetProperty("id");
            point.Id = id.ValueKind == JsonValueKind.Number ? new GrpcPointId { Num = id.GetUInt64() } : new GrpcPointId { Uuid = id.GetString()! };
            var vector = p.GetProperty("vector");
            point.Vectors = new Vectors();
            if (vector.ValueKind == JsonValueKind.Array)
            {
                point.Vectors.Vector = ToGrpcVector(vector);
            }
            else
            {
                point.Vectors.Vectors_ = new NamedVectors();
                foreach (var v in vector.EnumerateObject()) point.Vectors.Vectors_.Vectors.Add(v.Name, ToGrpcVector(v.Value));
            }
            if (p.TryGetProperty("payload", out var payload))
            {
                foreach (var f in payload.EnumerateObject())
                    point.Payload[f.Name] = ToValue(f.Value, () => invalid($"point {(id.ValueKind == JsonValueKind.Number ? id.GetRawText() : id.GetString())}: payload field '{f.Name}'"));
            }
            message.Points.Add(point);
        }
        return message;
    }

    private static Vector ToGrpcVector(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Object)
        {
            var sparse = new global::Qdrant.Client.Grpc.SparseVector();
            foreach (var i in v.GetProperty("indices").EnumerateArray()) sparse.Indices.Add(i.GetUInt32());
            foreach (var x in v.GetProperty("values").EnumerateArray()) sparse.Values.Add(x.GetSingle());
            return new Vector { Sparse = sparse };
        }
        if (v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.Array)
        {
            var multi = new MultiDenseVector();
            foreach (var row in v.EnumerateArray()) multi.Vectors.Add(Dense(row));
            return new Vector { MultiDense = multi };
        }
        return new Vector { Dense = Dense(v) };
    }

    private static global::Qdrant.Client.Grpc.DenseVector Dense(JsonElement array)
    {
        var dense = new global::Qdrant.Client.Grpc.DenseVector();
        dense.Data.Capacity = array.GetArrayLength();
        foreach (var x in array.EnumerateArray()) dense.Data.Add(x.GetSingle());
        return dense;
    }

    /// <summary>JSON as qdrant.Value, as Qdrant's json_to_proto maps it: an integer that fits int64 is an integer, other numbers doubles.</summary>
    private static Value ToValue(JsonElement e, Func<Exception> tooBig)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                var raw = e.GetRawText();
                if (raw == "-0") return new Value { DoubleValue = -0.0 }; // serde_json, over REST, reads -0 as a float
                if (e.TryGetInt64(out var l)) return new Value { IntegerValue = l };
                if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0) throw tooBig(); // an integer that int64 cannot hold
                return new Value { DoubleValue = e.GetDouble() };
            case JsonValueKind.String:
                return new Value { StringValue = e.GetString()! };
            case JsonValueKind.True or JsonValueKind.False:
                return new Value { BoolValue = e.ValueKind == JsonValueKind.True };
            case JsonValueKind.Object:
                var s = new Struct();
                foreach (var p in e.EnumerateObject()) s.Fields[p.Name] = ToValue(p.Value, tooBig);
                return new Value { StructValue = s };
            case JsonValueKind.Array:
                var list = new ListValue();
                foreach (var x in e.EnumerateArray()) list.Values.Add(ToValue(x, tooBig));
                return new Value { ListValue = list };
            default:
                return new Value { NullValue = NullValue.NullValue };
        }
    }
}
