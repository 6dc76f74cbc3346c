using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// Reads a fetch answer (<c>{"vectors": {id: {"id", "values", "sparseValues", "metadata"}}, "namespace", "usage"}</c>)
/// with a <see cref="Utf8JsonReader"/> straight into records: floats parsed as float32 (never through double, so
/// the bits are the server's), metadata kept as the server's own UTF-8 bytes.
/// </summary>
internal static class PineconeFetchParser
{
    /// <summary>The vector name records give Pinecone's sparse values.</summary>
    public const string SparseVectorName = "sparse";

    public static void Parse(byte[] body, string recordNamespace, PineconeRecordContext? context,
        Dictionary<string, VectorRecord> into, string what, string target)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        var scratch = new FloatScratch(context?.Schema?.FindVector(VectorRecord.DefaultVectorName)?.Dimension ?? 256);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(what, target, "the answer is not a JSON object");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("vectors"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(what, target, "'vectors' is not an object");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString()!;
                    reader.Read();
                    var record = ReadRecord(ref reader, body, key, recordNamespace, context, scratch, what, target);
                    into[record.Id.AsString] = record;
                }
                if (reader.TokenType != JsonTokenType.EndObject) throw Invalid(what, target, "'vectors' does not end as an object should");
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw Invalid(what, target, "the answer does not end as an object should");
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidResponse, PineconeErrorIds.InvalidResponse,
                $"{what}: the fetch answer is not valid JSON ({ex.Message})", target, ex);
        }
    }

    private static VectorRecord ReadRecord(ref Utf8JsonReader reader, byte[] body, string key, string recordNamespace,
        PineconeRecordContext? context, FloatScratch scratch, string what, string target)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(what, target, $"record '{key}' is not an object");
        string? id = null;
        float[]? dense = null;
        SparseVector? sparse = null;
        JsonPayload? payload = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) throw Invalid(what, target, $"'id' of record '{key}' is not a string");
                id = reader.GetString();
            }
            else if (reader.ValueTextEquals("values"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                dense = ReadFloats(ref reader, scratch, key, "values", what, target);
                if (dense.Length == 0) dense = null; // sparse indexes answer "values": []
            }
            else if (reader.ValueTextEquals("sparseValues"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                sparse = ReadSparse(ref reader, scratch, key, what, target);
            }
            else if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(what, target, $"'metadata' of record '{key}' is not an object");
                var start = checked((int)reader.TokenStartIndex);
                reader.Skip();
                var end = checked((int)reader.BytesConsumed);
                payload = new JsonPayload(body.AsSpan(start, end - start).ToArray());
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject) throw Invalid(what, target, $"record '{key}' does not end as an object should");

        id ??= key;
        if (id.Length == 0) throw Invalid(what, target, "a record has an empty id");
        var vectors = new Dictionary<string, VectorValue>((dense is null ? 0 : 1) + (sparse is null ? 0 : 1), StringComparer.Ordinal);
        if (dense is not null) vectors[VectorRecord.DefaultVectorName] = new DenseVector(dense);
        if (sparse is not null) vectors[SparseVectorName] = sparse;
        return new VectorRecord(PointId.FromString(id), vectors, payload)
        {
            Namespace = recordNamespace,
            Schema = context?.Schema,
            Origin = context?.Origin,
            Position = context?.PositionOf?.Invoke(id),
        };
    }

    private static float[] ReadFloats(ref Utf8JsonReader reader, FloatScratch scratch, string key, string field, string what, string target)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Invalid(what, target, $"'{field}' of record '{key}' is not an array");
        scratch.Clear();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // GetSingle parses the decimal text straight to the nearest float32: no detour through double
            // (which could round twice), so the bits are exactly those the server wrote.
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out var f) || !float.IsFinite(f))
            {
                throw Invalid(what, target, $"'{field}' of record '{key}' holds something that is not a finite float32 number");
            }
            scratch.Add(f);
        }
        return scratch.ToArray();
    }

    private static SparseVector ReadSparse(ref Utf8JsonReader reader, FloatScratch scratch, string key, string what, string target)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Invalid(what, target, $"'sparseValues' of record '{key}' is not an object");
        uint[]? indices = null;
        float[]? values = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("indices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) throw Invalid(what, target, $"'sparseValues.indices' of record '{key}' is not an array");
                var list = new List<uint>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt32(out var i))
                    {
                        throw Invalid(what, target, $"'sparseValues.indices' of record '{key}' holds something that is not an unsigned 32-bit integer");
                    }
                    list.Add(i);
                }
                indices = list.ToArray();
            }
            else if (reader.ValueTextEquals("values"u8))
            {
                reader.Read();
                values = ReadFloats(ref reader, scratch, key, "sparseValues.values", what, target);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        indices ??= [];
        values ??= [];
        if (indices.Length != values.Length)
        {
            throw Invalid(what, target, $"'sparseValues' of record '{key}' has {indices.Length} indices but {values.Length} values");
        }
        return new SparseVector(indices, values);
    }

    private static VecMigrateException Invalid(string what, string target, string detail) =>
        new(FailureKind.InvalidResponse, PineconeErrorIds.InvalidResponse, $"{what}: invalid answer from Pinecone: {detail}.", target);

    /// <summary>A growable float buffer reused across the vectors of one answer.</summary>
    private sealed class FloatScratch(int capacity)
    {
        private float[] _items = new float[Math.Max(capacity, 4)];
        private int _count;

        public void Clear() => _count = 0;

        public void Add(float f)
        {
            if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            _items[_count++] = f;
        }

        public float[] ToArray() => _items.AsSpan(0, _count).ToArray();
    }
}
