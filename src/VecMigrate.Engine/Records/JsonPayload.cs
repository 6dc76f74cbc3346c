using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VecMigrate.Engine.Records;

/// <summary>
/// A record's payload (Qdrant) or metadata (Pinecone) as the UTF-8 JSON object text the source sent.
/// Kept as bytes so it reaches the target unchanged and without a parse on the hot path.
/// </summary>
public sealed class JsonPayload
{
    private static readonly byte[] NulEscape = "\\u0000"u8.ToArray();

    public JsonPayload(ReadOnlyMemory<byte> utf8Json)
    {
        Utf8Json = utf8Json;
    }

    /// <summary>Wraps JSON text (it is not parsed here).</summary>
    public static JsonPayload FromString(string json) => new(Encoding.UTF8.GetBytes(json));

    /// <summary>The payload's UTF-8 JSON text.</summary>
    public ReadOnlyMemory<byte> Utf8Json { get; }

    /// <summary>The JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Utf8Json.Span);

    /// <summary>Parses the payload into a mutable JSON node tree.</summary>
    public JsonNode? ToNode() => JsonNode.Parse(Utf8Json.Span);

    /// <summary>
    /// True when some string in the JSON holds the character U+0000 (written <c>\u0000</c>), which
    /// Postgres's jsonb cannot store. A literal backslash followed by "u0000" is not counted.
    /// </summary>
    public bool ContainsNulCharacter()
    {
        var span = Utf8Json.Span;
        var start = 0;
        while (true)
        {
            var at = span[start..].IndexOf(NulEscape);
            if (at < 0) return false;
            at += start;
            // Count the backslashes just before this one: an odd count means ours is escaped.
            var backslashes = 0;
            for (var i = at - 1; i >= 0 && span[i] == (byte)'\\'; i--) backslashes++;
            if (backslashes % 2 == 0) return true;
            start = at + 1;
        }
    }

    /// <summary>Semantic equality of two JSON documents (object key order ignored, numbers by value).</summary>
    public static bool DeepEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        using var da = JsonDocument.Parse(a.ToArray());
        using var db = JsonDocument.Parse(b.ToArray());
        return JsonElementComparer.DeepEquals(da.RootElement, db.RootElement);
    }
}

/// <summary>Compares JSON values by meaning: key order ignored, numbers compared as decimals.</summary>
public static class JsonElementComparer
{
    public static bool DeepEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind) return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var ap = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var p in a.EnumerateObject()) ap[p.Name] = p.Value;
                var count = 0;
                foreach (var p in b.EnumerateObject())
                {
                    count++;
                    if (!ap.TryGetValue(p.Name, out var av) || !DeepEquals(av, p.Value)) return false;
                }
                return count == ap.Count;
            }
            case JsonValueKind.Array:
            {
                if (a.GetArrayLength() != b.GetArrayLength()) return false;
                using var ea = a.EnumerateArray();
                using var eb = b.EnumerateArray();
                while (ea.MoveNext() && eb.MoveNext())
                {
                    if (!DeepEquals(ea.Current, eb.Current)) return false;
                }
                return true;
            }
            case JsonValueKind.String:
                return a.GetString() == b.GetString();
            case JsonValueKind.Number:
                if (a.TryGetDecimal(out var da) && b.TryGetDecimal(out var db)) return da == db;
                return a.GetDouble().Equals(b.GetDouble());
            default:
                return true; // true, false, null: same kind is same value
        }
    }
}
