using System.Buffers;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>
/// Records as JSON Lines: a header line (the layout, marked <c>"vecmigrate": "records"</c>), one record per line
/// (<c>{"id":"7","idKind":"u64","namespace":"a","vectors":{"":[0.5,…],"bm25":{"indices":[…],"values":[…]},"colbert":[[…],…]},"payload":{…}}</c>),
/// and an end line (<c>{"vecmigrate":"end","records":N}</c>) whose absence shows a file cut short. Floats are written
/// in their shortest round-trip form, the payload as the source's JSON text, unchanged. See docs/files.md.
/// </summary>
internal static class JsonlRecords
{
    public const string EndMarker = "end";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = false };

    /// <summary>The header line (with its newline).</summary>
    public static byte[] Header(FileLayout layout)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            layout.WriteProperties(w);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The end line (with its newline).</summary>
    public static byte[] End(long records)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString(FileLayout.MetadataKey, EndMarker);
            w.WriteNumber("records", records);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends one record's line (with its newline) to <paramref name="buffer"/>.</summary>
    public static void WriteRecord(ArrayBufferWriter<byte> buffer, Utf8JsonWriter w, VectorRecord r)
    {
        w.Reset(buffer);
        w.WriteStartObject();
        w.WriteString("id", r.Id.ToString());
        w.WriteString("idKind", FileLayout.KindName(r.Id.Kind));
        if (r.Namespace is { } ns) w.WriteString("namespace", ns);
        w.WriteStartObject("vectors");
        foreach (var (name, value) in r.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            w.WritePropertyName(name);
            switch (value)
            {
                case DenseVector d:
                    WriteFloats(w, d.Values);
                    break;
                case SparseVector s:
                    w.WriteStartObject();
                    w.WriteStartArray("indices");
                    foreach (var i in s.Indices) w.WriteNumberValue(i);
                    w.WriteEndArray();
                    w.WritePropertyName("values");
                    WriteFloats(w, s.Values);
                    w.WriteEndObject();
                    break;
                case MultiVector m:
                    w.WriteStartArray();
                    foreach (var inner in m.Vectors) WriteFloats(w, inner);
                    w.WriteEndArray();
                    break;
            }
        }
        w.WriteEndObject();
        if (r.Payload is { } p)
        {
            w.WritePropertyName("payload");
            w.WriteRawValue(p.Utf8Json.Span, skipInputValidation: false);
        }
        w.WriteEndObject();
        w.Flush();
        buffer.Write("\n"u8);
    }

    // Utf8JsonWriter writes a float in its shortest form that parses back to the same bits.
    private static void WriteFloats(Utf8JsonWriter w, float[] values)
    {
        w.WriteStartArray();
        foreach (var x in values) w.WriteNumberValue(x);
        w.WriteEndArray();
    }

    /// <summary>What a line is.</summary>
    public enum LineKind
    {
        Record,
        End,
    }

    /// <summary>
    /// Reads one record line; throws <see cref="FormatException"/> saying what is wrong (the caller names file and line).
    /// An end line comes back as <see cref="LineKind.End"/> with its record count.
    /// </summary>
    public static LineKind ParseLine(ReadOnlySpan<byte> line, FileLayout layout, out VectorRecord? record, out long endCount)
    {
        record = null;
        endCount = 0;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException ex)
        {
            throw new FormatException($"it is not JSON ({ex.Message})", ex);
        }
        using (doc)
        {
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object) throw new FormatException("it is not a JSON object");
            if (e.TryGetProperty(FileLayout.MetadataKey, out var marker))
            {
                if (marker.ValueKind == JsonValueKind.String && marker.GetString() == EndMarker && e.TryGetProperty("records", out var c) && c.TryGetInt64(out endCount))
                {
                    return LineKind.End;
                }
                throw new FormatException("it is a header line where a record was expected");
            }
            var id = String(e, "id");
            var kind = String(e, "idKind");
            if (!FileLayout.TryParseId(id, kind, out var pointId)) throw new FormatException($"its id '{id}' is not a {kind} id");
            string? ns = null;
            if (e.TryGetProperty("namespace", out var n) && n.ValueKind != JsonValueKind.Null)
            {
                ns = n.ValueKind == JsonValueKind.String ? n.GetString() : throw new FormatException("its namespace is not a string");
            }
            var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
            if (e.TryGetProperty("vectors", out var vs))
            {
                if (vs.ValueKind != JsonValueKind.Object) throw new FormatException("its vectors are not an object");
                foreach (var v in vs.EnumerateObject()) vectors[v.Name] = Vector(v.Name, v.Value, layout.Find(v.Name)?.Field.Kind);
            }
            JsonPayload? payload = null;
            if (e.TryGetProperty("payload", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                if (p.ValueKind != JsonValueKind.Object) throw new FormatException("its payload is not a JSON object");
                // The payload's own text, as written (numbers beyond 2^53 and key order kept).
                payload = new JsonPayload(System.Text.Encoding.UTF8.GetBytes(p.GetRawText()));
            }
            record = new VectorRecord(pointId, vectors, payload) { Namespace = ns };
            return LineKind.Record;
        }
    }

    private static VectorValue Vector(string name, JsonElement v, VectorKind? kind)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Array:
                // The layout tells an empty multivector from an empty dense vector; the shape tells the rest.
                if (kind == VectorKind.Multi || (kind is null && v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.Array))
                {
                    var inners = new float[v.GetArrayLength()][];
                    var k = 0;
                    foreach (var inner in v.EnumerateArray()) inners[k++] = Floats(name, inner);
                    return new MultiVector(inners);
                }
                return new DenseVector(Floats(name, v));
            case JsonValueKind.Object:
                var indicesE = v.TryGetProperty("indices", out var ie) ? ie : throw new FormatException($"sparse vector '{name}' has no indices");
                var values = Floats(name, v.TryGetProperty("values", out var ve) ? ve : throw new FormatException($"sparse vector '{name}' has no values"));
                if (indicesE.ValueKind != JsonValueKind.Array) throw new FormatException($"sparse vector '{name}' has indices that are not an array");
                var indices = new uint[indicesE.GetArrayLength()];
                var i = 0;
                foreach (var x in indicesE.EnumerateArray())
                {
                    if (x.ValueKind != JsonValueKind.Number || !x.TryGetUInt32(out indices[i++])) throw new FormatException($"sparse vector '{name}' has an index that is not a 32-bit unsigned integer");
                }
                if (indices.Length != values.Length) throw new FormatException($"sparse vector '{name}' has {indices.Length} indices and {values.Length} values");
                return new SparseVector(indices, values);
            default:
                throw new FormatException($"vector '{name}' is neither a list nor a sparse vector");
        }
    }

    private static float[] Floats(string name, JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Array) throw new FormatException($"vector '{name}' is not a list of numbers");
        var result = new float[a.GetArrayLength()];
        var i = 0;
        foreach (var x in a.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetSingle(out result[i]) || !float.IsFinite(result[i])) throw new FormatException($"vector '{name}' holds a value that is not a float32 number");
            i++;
        }
        return result;
    }

    private static string String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"it has no \"{name}\" string");
}
