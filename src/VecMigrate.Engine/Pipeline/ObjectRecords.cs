using System.Collections;
using System.Globalization;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Makes records from ordinary objects (hashtables, CSV rows, parsed JSON): an id field, one or more
/// vector fields, and every other field as the payload. The cmdlet layer unwraps PowerShell's own
/// wrappers first; values here are strings, numbers, booleans, dates, GUIDs, dictionaries and lists.
/// </summary>
public static class ObjectRecords
{
    /// <summary>Builds one record. Throws <see cref="VecMigrateException"/> (InvalidRecord) naming the object and field when it cannot.</summary>
    /// <param name="fields">The object's fields in order.</param>
    /// <param name="idField">The field holding the id.</param>
    /// <param name="vectorFields">Fields holding vectors: one gives the unnamed vector, several give vectors named after them.</param>
    /// <param name="what">How to name the object in errors (e.g. "object 12").</param>
    public static VectorRecord FromFields(IReadOnlyList<KeyValuePair<string, object?>> fields, string idField, IReadOnlyList<string> vectorFields, string what)
    {
        object? idValue = null;
        var found = false;
        foreach (var f in fields)
        {
            if (string.Equals(f.Key, idField, StringComparison.OrdinalIgnoreCase))
            {
                idValue = f.Value;
                found = true;
                break;
            }
        }
        if (!found || idValue is null) throw Bad(what, "ObjectIdMissing", $"it has no value for the id field '{idField}'");
        var id = ToId(idValue, what, idField);

        var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
        foreach (var vf in vectorFields)
        {
            var field = fields.FirstOrDefault(f => string.Equals(f.Key, vf, StringComparison.OrdinalIgnoreCase));
            if (field.Key is null || field.Value is null) throw Bad(what, "ObjectVectorMissing", $"it has no value for the vector field '{vf}'");
            var name = vectorFields.Count == 1 ? VectorRecord.DefaultVectorName : field.Key;
            vectors[name] = new DenseVector(ToVector(field.Value, what, vf));
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var f in fields)
            {
                if (string.Equals(f.Key, idField, StringComparison.OrdinalIgnoreCase)) continue;
                if (vectorFields.Any(v => string.Equals(v, f.Key, StringComparison.OrdinalIgnoreCase))) continue;
                w.WritePropertyName(f.Key);
                WriteValue(w, f.Value, 0);
            }
            w.WriteEndObject();
        }
        return new VectorRecord(id, vectors, new JsonPayload(buffer.WrittenMemory.ToArray()));
    }

    /// <summary>
    /// JSON text for a plain value made of the same parts as a record's fields (dictionaries become objects in
    /// their own key order, lists arrays): how a hashtable given for a JSON parameter (a Qdrant filter) is sent.
    /// </summary>
    public static string ToJson(object? value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteValue(w, value, 0);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static PointId ToId(object value, string what, string field) => value switch
    {
        ulong u => PointId.FromUnsigned(u),
        long l when l >= 0 => PointId.FromUnsigned((ulong)l),
        int i when i >= 0 => PointId.FromUnsigned((ulong)i),
        uint ui => PointId.FromUnsigned(ui),
        short s when s >= 0 => PointId.FromUnsigned((ulong)s),
        byte b => PointId.FromUnsigned(b),
        decimal d when d >= 0 && d <= ulong.MaxValue && d == decimal.Truncate(d) => PointId.FromUnsigned((ulong)d),
        Guid g => PointId.FromUuid(g),
        string { Length: > 0 } s => PointId.FromString(s),
        _ => throw Bad(what, "ObjectIdInvalid", $"its id field '{field}' holds {Describe(value)}; ids are whole numbers from 0 to 18446744073709551615, GUIDs or non-empty strings"),
    };

    /// <summary>A vector from an array or list of numbers, or from text such as "[0.1, 0.2]" or "0.1,0.2" (parsed exactly as float32).</summary>
    public static float[] ToVector(object value, string what, string field)
    {
        switch (value)
        {
            case float[] f:
                return (float[])f.Clone();
            case double[] d:
                return d.Select(x => (float)x).ToArray();
            case string s:
            {
                var t = s.Trim();
                if (t.StartsWith('[') && t.EndsWith(']')) t = t[1..^1];
                var parts = t.Split([',', ' ', ';', '\t'], StringSplitOptions.RemoveEmptyEntries);
                var result = new float[parts.Length];
                for (var i = 0; i < parts.Length; i++)
                {
                    if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]))
                    {
                        throw Bad(what, "ObjectVectorInvalid", $"its vector field '{field}' holds '{parts[i]}' at position {i}, which is not a number");
                    }
                }
                if (result.Length == 0) throw Bad(what, "ObjectVectorInvalid", $"its vector field '{field}' is empty");
                return result;
            }
            case IEnumerable e:
            {
                var list = new List<float>();
                var i = 0;
                foreach (var x in e)
                {
                    list.Add(x switch
                    {
                        float f => f,
                        double d => (float)d,
                        decimal m => (float)m,
                        int n => n,
                        long n => n,
                        string str when float.TryParse(str, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                        _ => throw Bad(what, "ObjectVectorInvalid", $"its vector field '{field}' holds {Describe(x)} at position {i}, which is not a number"),
                    });
                    i++;
                }
                if (list.Count == 0) throw Bad(what, "ObjectVectorInvalid", $"its vector field '{field}' is empty");
                return list.ToArray();
            }
            default:
                throw Bad(what, "ObjectVectorInvalid", $"its vector field '{field}' holds {Describe(value)}, not a list of numbers");
        }
    }

    private static void WriteValue(Utf8JsonWriter w, object? value, int depth)
    {
        if (depth > 64) throw new VecMigrateException(FailureKind.InvalidRecord, "ObjectTooDeep", "An object nests more than 64 levels deep (a cycle?).");
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case uint ui: w.WriteNumberValue(ui); break;
            case short sh: w.WriteNumberValue(sh); break;
            case byte by: w.WriteNumberValue(by); break;
            case decimal m: w.WriteNumberValue(m); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double or float:
                throw new VecMigrateException(FailureKind.InvalidRecord, "ObjectValueNotFinite", $"A field holds {value}, which JSON cannot carry.");
            case DateTimeOffset dto: w.WriteStringValue(dto.ToString("O", CultureInfo.InvariantCulture)); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("O", CultureInfo.InvariantCulture)); break;
            case Guid g: w.WriteStringValue(g.ToString("D")); break;
            case JsonElement je: je.WriteTo(w); break;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry entry in dict)
                {
                    w.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(w, entry.Value, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                w.WriteStartObject();
                foreach (var p in pairs)
                {
                    w.WritePropertyName(p.Key);
                    WriteValue(w, p.Value, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable list:
                w.WriteStartArray();
                foreach (var x in list) WriteValue(w, x, depth + 1);
                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string Describe(object? v) => v is null ? "nothing" : $"{v} ({v.GetType().Name})";

    private static VecMigrateException Bad(string what, string id, string why) =>
        new(FailureKind.InvalidRecord, id, $"Cannot make a record of {what}: {why}.", what);
}
