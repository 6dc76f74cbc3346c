using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>What <see cref="RecordShaper"/> makes of records.</summary>
public sealed class ShapeOptions
{
    /// <summary>Typed columns: column name, type and the payload field (a top-level key, or a dotted path into nested objects).</summary>
    public IReadOnlyList<ColumnSpec> Columns { get; init; } = [];

    /// <summary>Infer a column for every top-level payload field seen in the first this-many records (0: off).</summary>
    public int InferFrom { get; init; }

    public PayloadRest Payload { get; init; } = PayloadRest.Rest;

    public string IdColumn { get; init; } = "id";

    /// <summary>Column names for vectors, by vector name ("" for the unnamed vector).</summary>
    public IReadOnlyDictionary<string, string>? VectorColumns { get; init; }

    public string? PayloadColumn { get; init; }

    /// <summary>
    /// Column names by payload field, for given and inferred columns alike (a column is otherwise named after its
    /// field). A field named here that ends up as no column is refused when the shape is fixed.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Rename { get; init; }
}

/// <summary>
/// Turns records into rows of typed columns (ConvertTo-PgVectorRecord): chosen payload fields become
/// columns of the given type, or of types inferred from the first records; the rest of the payload stays
/// in jsonb or is dropped. A value that does not convert is refused naming the record and the field.
/// Records are pushed in one at a time; while types are being inferred they are held back (at most
/// <see cref="ShapeOptions.InferFrom"/> of them), so memory stays bounded.
/// </summary>
public sealed class RecordShaper
{
    private readonly ShapeOptions _options;
    private readonly List<VectorRecord> _held = [];
    private RowShape? _shape;

    public RecordShaper(ShapeOptions options)
    {
        if (options.InferFrom < 0) throw new ArgumentOutOfRangeException(nameof(options), "InferFrom must be 0 or more.");
        _options = options;
        if (options.InferFrom == 0) _shape = MakeShape(options.Columns);
    }

    /// <summary>The shape, once fixed (at once, or after inference).</summary>
    public RowShape? Shape => _shape;

    /// <summary>One converted record, or why it could not be.</summary>
    public readonly record struct Outcome(VectorRecord? Record, RecordRejectedException? Error);

    /// <summary>Adds a record; returns the records ready to go on (none while types are inferred).</summary>
    public IReadOnlyList<Outcome> Add(VectorRecord record)
    {
        if (_shape != null) return [Convert(record)];
        _held.Add(record);
        return _held.Count >= _options.InferFrom ? Release() : [];
    }

    /// <summary>Releases the records still held (fewer than the inference count arrived).</summary>
    public IReadOnlyList<Outcome> Complete() => _shape is null && _held.Count > 0 ? Release() : [];

    private IReadOnlyList<Outcome> Release()
    {
        _shape = MakeShape(Infer());
        var result = _held.Select(Convert).ToList();
        _held.Clear();
        return result;
    }

    private RowShape MakeShape(IReadOnlyList<ColumnSpec> columns)
    {
        if (_options.Rename is { Count: > 0 } rename)
        {
            var unknown = rename.Keys.Where(f => !columns.Any(c => string.Equals(c.Field, f, StringComparison.Ordinal))).ToList();
            if (unknown.Count > 0)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "ConvertRenameUnknownField",
                    $"Renamed field{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown.Select(f => $"'{f}'"))} " +
                    "did not become a column: name it among the typed columns, or infer types from records that have it.");
            }
            columns = columns.Select(c => rename.TryGetValue(c.Field, out var name) ? c with { Column = name } : c).ToList();
        }
        return new(columns, _options.Payload, _options.IdColumn, _options.VectorColumns, _options.PayloadColumn);
    }

    private List<ColumnSpec> Infer()
    {
        var explicitFields = new HashSet<string>(_options.Columns.Select(c => c.Field), StringComparer.Ordinal);
        var seen = new List<string>();
        var types = new Dictionary<string, ColumnType?>(StringComparer.Ordinal);
        foreach (var r in _held)
        {
            if (r.Payload is null) continue;
            using var doc = JsonDocument.Parse(r.Payload.Utf8Json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) continue;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (explicitFields.Contains(p.Name)) continue;
                var t = InferType(p.Value);
                if (!types.TryGetValue(p.Name, out var known))
                {
                    seen.Add(p.Name);
                    types[p.Name] = t;
                }
                else if (t != null && known != null && t != known)
                {
                    types[p.Name] = Widen(known.Value, t.Value);
                }
                else if (known is null)
                {
                    types[p.Name] = t;
                }
            }
        }
        var result = new List<ColumnSpec>(_options.Columns);
        foreach (var f in seen)
        {
            // A field that was null in every record says nothing of its type: keep it as jsonb.
            result.Add(new ColumnSpec(f, types[f] ?? ColumnType.Jsonb, f));
        }
        return result;
    }

    private static ColumnType? InferType(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => ColumnType.Text,
        JsonValueKind.True or JsonValueKind.False => ColumnType.Boolean,
        JsonValueKind.Number => e.TryGetInt64(out _) && !HasFractionOrExponent(e) ? ColumnType.BigInt : ColumnType.Numeric,
        JsonValueKind.Array => e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) ? ColumnType.TextArray
            : e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out _) && !HasFractionOrExponent(x)) ? ColumnType.BigIntArray
            : ColumnType.Jsonb,
        _ => ColumnType.Jsonb,
    };

    private static bool HasFractionOrExponent(JsonElement e) => e.GetRawText().AsSpan().IndexOfAny(".eE") >= 0;

    private static ColumnType Widen(ColumnType a, ColumnType b) =>
        (a, b) is (ColumnType.BigInt, ColumnType.Numeric) or (ColumnType.Numeric, ColumnType.BigInt) ? ColumnType.Numeric : ColumnType.Jsonb;

    private Outcome Convert(VectorRecord record)
    {
        var shape = _shape!;
        var values = new object?[shape.Columns.Count];
        JsonNode? rest = null;
        JsonElement root = default;
        JsonDocument? doc = null;
        try
        {
            if (record.Payload != null)
            {
                doc = JsonDocument.Parse(record.Payload.Utf8Json);
                root = doc.RootElement;
            }
            for (var i = 0; i < shape.Columns.Count; i++)
            {
                var spec = shape.Columns[i];
                if (doc is null || !TryFind(root, spec.Field, out var value) || value.ValueKind == JsonValueKind.Null)
                {
                    values[i] = null;
                    continue;
                }
                if (!TryConvert(value, spec.Type, out values[i], out var why))
                {
                    return new Outcome(null, new RecordRejectedException("ConvertFieldInvalid",
                        $"Record {record}: field '{spec.Field}' holds {Describe(value)}, which {why} for column \"{spec.Column}\" of type {SqlName(spec.Type)}.", record));
                }
            }
            JsonPayload? payload = null;
            if (shape.Payload == PayloadRest.Keep) payload = record.Payload;
            else if (shape.Payload == PayloadRest.Rest && record.Payload != null)
            {
                rest = JsonNode.Parse(record.Payload.Utf8Json.Span);
                if (rest is JsonObject obj)
                {
                    foreach (var spec in shape.Columns) Remove(obj, spec.Field);
                }
                payload = new JsonPayload(Encoding.UTF8.GetBytes(rest!.ToJsonString()));
            }
            return new Outcome(new VectorRecord(record.Id, record.Vectors, payload)
            {
                Namespace = record.Namespace,
                Schema = record.Schema,
                Origin = record.Origin,
                Position = record.Position,
                Columns = new RecordColumns(shape, values),
            }, null);
        }
        catch (JsonException ex)
        {
            return new Outcome(null, new RecordRejectedException("ConvertPayloadInvalid", $"Record {record}: its payload is not valid JSON: {ex.Message}", record, ex));
        }
        finally
        {
            doc?.Dispose();
        }
    }

    private static bool TryFind(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(path, out value)) return true; // a key that holds dots
        value = root;
        foreach (var part in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value)) return false;
        }
        return true;
    }

    private static void Remove(JsonObject obj, string path)
    {
        if (obj.Remove(path)) return;
        var parts = path.Split('.');
        JsonObject? at = obj;
        for (var i = 0; i < parts.Length - 1 && at != null; i++) at = at[parts[i]] as JsonObject;
        at?.Remove(parts[^1]);
    }

    private static string Describe(JsonElement e)
    {
        var raw = e.GetRawText();
        return raw.Length > 60 ? raw[..57] + "..." : raw;
    }

    public static string SqlName(ColumnType t) => t switch
    {
        ColumnType.Text => "text",
        ColumnType.Integer => "integer",
        ColumnType.BigInt => "bigint",
        ColumnType.Real => "real",
        ColumnType.Double => "double precision",
        ColumnType.Numeric => "numeric",
        ColumnType.Boolean => "boolean",
        ColumnType.Timestamptz => "timestamptz",
        ColumnType.Date => "date",
        ColumnType.Uuid => "uuid",
        ColumnType.Jsonb => "jsonb",
        ColumnType.TextArray => "text[]",
        ColumnType.IntegerArray => "integer[]",
        ColumnType.BigIntArray => "bigint[]",
        ColumnType.DoubleArray => "double precision[]",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Parses a type name as people write it: text, int, integer, bigint, real, float, double, numeric, decimal, bool, boolean, timestamptz, timestamp, date, uuid, jsonb, json, text[], int[], bigint[], double[].</summary>
    public static ColumnType ParseType(string name) => name.Trim().ToLowerInvariant() switch
    {
        "text" or "string" or "varchar" => ColumnType.Text,
        "int" or "integer" or "int4" => ColumnType.Integer,
        "bigint" or "int8" or "long" => ColumnType.BigInt,
        "real" or "float4" or "single" => ColumnType.Real,
        "double" or "double precision" or "float8" or "float" => ColumnType.Double,
        "numeric" or "decimal" => ColumnType.Numeric,
        "bool" or "boolean" => ColumnType.Boolean,
        "timestamptz" or "timestamp" or "datetime" => ColumnType.Timestamptz,
        "date" => ColumnType.Date,
        "uuid" or "guid" => ColumnType.Uuid,
        "jsonb" or "json" => ColumnType.Jsonb,
        "text[]" or "string[]" => ColumnType.TextArray,
        "int[]" or "integer[]" => ColumnType.IntegerArray,
        "bigint[]" or "long[]" => ColumnType.BigIntArray,
        "double[]" or "float8[]" or "double precision[]" => ColumnType.DoubleArray,
        _ => throw new VecMigrateException(FailureKind.InvalidArgument, "ConvertTypeUnknown",
            $"Unknown column type '{name}'; use text, int, bigint, real, double, numeric, boolean, timestamptz, date, uuid, jsonb, text[], int[], bigint[] or double[]."),
    };

    private static bool TryConvert(JsonElement v, ColumnType type, out object? result, out string why)
    {
        result = null;
        why = "does not convert";
        var inv = CultureInfo.InvariantCulture;
        switch (type)
        {
            case ColumnType.Text:
                if (v.ValueKind == JsonValueKind.String) { result = v.GetString(); return true; }
                if (v.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) { result = v.GetRawText(); return true; }
                why = "is not a string";
                return false;
            case ColumnType.Integer:
                if (Integral(v, out var l) && l is >= int.MinValue and <= int.MaxValue) { result = (int)l; return true; }
                why = "is not a whole number in integer's range";
                return false;
            case ColumnType.BigInt:
                if (Integral(v, out var b)) { result = b; return true; }
                why = "is not a whole number in bigint's range";
                return false;
            case ColumnType.Real:
            case ColumnType.Double:
            {
                var text = v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.ValueKind == JsonValueKind.String ? v.GetString()! : null;
                if (text != null && double.TryParse(text, NumberStyles.Float, inv, out var d) && double.IsFinite(d))
                {
                    if (type == ColumnType.Real)
                    {
                        var f = float.Parse(text, NumberStyles.Float, inv);
                        if (!float.IsFinite(f)) { why = "is beyond real's range"; return false; }
                        result = f;
                    }
                    else result = d;
                    return true;
                }
                why = "is not a finite number";
                return false;
            }
            case ColumnType.Numeric:
            {
                var text = v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.ValueKind == JsonValueKind.String ? v.GetString()! : null;
                if (text != null && decimal.TryParse(text, NumberStyles.Float, inv, out var m)) { result = m; return true; }
                why = "is not a number that numeric can take here (at most 28 significant digits)";
                return false;
            }
            case ColumnType.Boolean:
                if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) { result = v.GetBoolean(); return true; }
                if (v.ValueKind == JsonValueKind.String && bool.TryParse(v.GetString(), out var bo)) { result = bo; return true; }
                why = "is not true or false";
                return false;
            case ColumnType.Timestamptz:
                if (v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), inv, DateTimeStyles.AssumeUniversal, out var ts)) { result = ts; return true; }
                why = "is not a date and time (ISO 8601)";
                return false;
            case ColumnType.Date:
                if (v.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(v.GetString(), "yyyy-MM-dd", inv, DateTimeStyles.None, out var date)) { result = date; return true; }
                why = "is not a date (yyyy-MM-dd)";
                return false;
            case ColumnType.Uuid:
                if (v.ValueKind == JsonValueKind.String && Guid.TryParse(v.GetString(), out var g)) { result = g; return true; }
                why = "is not a UUID";
                return false;
            case ColumnType.Jsonb:
                result = new JsonPayload(Encoding.UTF8.GetBytes(v.GetRawText()));
                return true;
            case ColumnType.TextArray:
                if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind is JsonValueKind.String or JsonValueKind.Null))
                {
                    result = v.EnumerateArray().Select(x => x.GetString()).ToArray();
                    return true;
                }
                why = "is not a list of strings";
                return false;
            case ColumnType.IntegerArray:
            case ColumnType.BigIntArray:
            {
                if (v.ValueKind == JsonValueKind.Array)
                {
                    var list = new List<long>();
                    foreach (var x in v.EnumerateArray())
                    {
                        if (!Integral(x, out var n) || (type == ColumnType.IntegerArray && n is < int.MinValue or > int.MaxValue)) { list = null; break; }
                        list.Add(n);
                    }
                    if (list != null)
                    {
                        result = type == ColumnType.IntegerArray ? list.Select(n => (int)n).ToArray() : list.ToArray();
                        return true;
                    }
                }
                why = "is not a list of whole numbers in range";
                return false;
            }
            case ColumnType.DoubleArray:
                if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number))
                {
                    result = v.EnumerateArray().Select(x => x.GetDouble()).ToArray();
                    return true;
                }
                why = "is not a list of numbers";
                return false;
        }
        return false;
    }

    private static bool Integral(JsonElement v, out long value)
    {
        value = 0;
        var text = v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (text is null) return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        // 2.0 or 1e3 are whole numbers too; 2.5 is not.
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue)
        {
            value = (long)d;
            return true;
        }
        return false;
    }
}
