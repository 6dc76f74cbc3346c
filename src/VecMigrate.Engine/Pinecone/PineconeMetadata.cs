using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// Checks a payload against what Pinecone metadata can hold, so that it arrives unchanged or not at all.
/// Pinecone documents metadata as a flat JSON object whose values are strings, numbers (stored as 64-bit
/// floats), booleans or lists of strings; null values and nested objects are not supported; at most 40 KB.
/// A number is refused when the 64-bit float Pinecone would store is not the number the source holds
/// (an integer beyond 2^53, a decimal with more digits than a double keeps): storing it would change it.
/// </summary>
internal static class PineconeMetadata
{
    /// <summary>Null when <paramref name="json"/> fits; else the error id and why, in words that follow "its metadata".</summary>
    public static (string ErrorId, string Why)? Check(ReadOnlySpan<byte> json, int maxBytes)
    {
        if (json.Length > maxBytes)
        {
            return (PineconeErrorIds.MetadataTooLarge, $"is {json.Length:N0} bytes serialized; Pinecone takes at most {maxBytes:N0} (40 KB) per record");
        }
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read()) return (PineconeErrorIds.MetadataInvalid, "is empty, not a JSON object");
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return (PineconeErrorIds.MetadataUnsupported, $"is a JSON {Describe(reader.TokenType)}; Pinecone metadata is an object of key-value pairs");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                reader.Read();
                var problem = CheckValue(ref reader, key);
                if (problem is not null) return problem;
            }
            // Anything after the object (a second value, garbage) makes Read throw.
            while (reader.Read()) { }
            return null;
        }
        catch (JsonException ex)
        {
            return (PineconeErrorIds.MetadataInvalid, $"is not valid JSON ({ex.Message})");
        }
    }

    private static (string, string)? CheckValue(ref Utf8JsonReader reader, string key)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
            case JsonTokenType.True:
            case JsonTokenType.False:
                return null;
            case JsonTokenType.Number:
                return SurvivesFloat64(reader.ValueSpan, out var stored) ? null
                    : (PineconeErrorIds.MetadataNumberInexact,
                        $"value of '{key}' is {Encoding.UTF8.GetString(reader.ValueSpan)}, which Pinecone would store as the 64-bit float {stored}; the migration would change it (store it as a string in the source to keep it exactly)");
            case JsonTokenType.Null:
                return (PineconeErrorIds.MetadataNull, $"value of '{key}' is null; Pinecone does not support null metadata values (remove the key instead)");
            case JsonTokenType.StartObject:
                return (PineconeErrorIds.MetadataNested, $"value of '{key}' is an object; Pinecone metadata is flat (nested objects are not supported)");
            case JsonTokenType.StartArray:
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return (PineconeErrorIds.MetadataUnsupported,
                            $"value of '{key}' is a list holding a {Describe(reader.TokenType)}; Pinecone lists hold only strings");
                    }
                }
                return null;
            default:
                return (PineconeErrorIds.MetadataInvalid, $"value of '{key}' is not a JSON value");
        }
    }

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "list",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// True when the number <paramref name="utf8"/> denotes is exactly the value of the nearest 64-bit float, as
    /// its shortest round-trip text shows: "2020", "1.5", "0.1" and "1e20" survive; "9007199254740993" and
    /// "0.12345678901234567890" do not. <paramref name="stored"/> is that float's text.
    /// </summary>
    internal static bool SurvivesFloat64(ReadOnlySpan<byte> utf8, out string stored)
    {
        var text = Encoding.ASCII.GetString(utf8);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
        {
            stored = "infinity";
            return false;
        }
        stored = d.ToString("R", CultureInfo.InvariantCulture);
        return Canonical(text) == Canonical(stored);
    }

    /// <summary>A decimal number as (negative, significant digits without leading or trailing zeros, exponent); zero is (false, "", 0).</summary>
    private static (bool Negative, string Digits, long Exponent) Canonical(string s)
    {
        var i = 0;
        var negative = false;
        if (i < s.Length && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
        var digits = new StringBuilder(s.Length);
        long exponent = 0;
        var fraction = false;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c is >= '0' and <= '9')
            {
                digits.Append(c);
                if (fraction) exponent--;
            }
            else if (c == '.')
            {
                fraction = true;
            }
            else if (c is 'e' or 'E')
            {
                // An exponent too large for a long cannot belong to a finite, non-zero double: it never compares equal.
                exponent = long.TryParse(s.AsSpan(i + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e)
                    ? exponent + e : long.MinValue;
                break;
            }
        }
        var significant = digits.ToString().TrimStart('0');
        if (significant.Length == 0) return (false, "", 0);
        var trimmed = significant.TrimEnd('0');
        exponent += significant.Length - trimmed.Length;
        return (negative, trimmed, exponent);
    }
}
