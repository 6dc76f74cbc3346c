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

    /// <summary>One block copy out of the message's list; the message is dropped right after.</summary>
    private static float[] ToArray(RepeatedField<float> values)
    {
        var array = new float[values.Count];
        values.CopyTo(array, 0);
        return array;
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
}
