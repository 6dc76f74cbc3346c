using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace VecMigrate.Testing.Contracts;

/// <summary>One way a JSON value breaks a schema.</summary>
/// <param name="InstancePath">Where the offending value is, e.g. <c>$.result.points[3].id</c>.</param>
/// <param name="SchemaLocation">The schema keyword it broke, e.g. <c>#/components/schemas/ExtendedPointId/anyOf/0/format</c>.</param>
/// <param name="Message">What is wrong, e.g. <c>value -1 is not valid for format uint64</c>.</param>
public sealed record SchemaError(string InstancePath, string SchemaLocation, string Message)
{
    internal SchemaErrorKind Kind { get; init; }

    internal int Depth { get; init; }

    public override string ToString() => $"{InstancePath}: {Message} ({SchemaLocation})";
}

internal enum SchemaErrorKind { Other, Type, Enum, Required }

/// <summary>
/// Validates JSON values against schemas of an <see cref="OpenApiDocument"/>: the JSON Schema subset
/// that OpenAPI 3.0 and 3.1 documents use, with 3.0's <c>nullable</c>. Unknown formats and keywords
/// assert nothing. Thread-safe, and cheap per value (numbers in arrays are read from their text), so
/// multi-MB bodies validate in a fraction of a second.
/// </summary>
public static class JsonSchemaValidator
{
    /// <summary>The errors of <paramref name="value"/> against <paramref name="schema"/>; empty when valid.</summary>
    /// <param name="rootPath">How the value itself is named in error paths.</param>
    /// <param name="maxErrors">Stops collecting after this many.</param>
    public static IReadOnlyList<SchemaError> Validate(JsonElement value, JsonSchema schema, string rootPath = "$", int maxErrors = 50)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var errors = new List<SchemaError>();
        new Walker(rootPath, errors, maxErrors).Validate(schema, value);
        return errors;
    }

    /// <summary>True when <paramref name="value"/> satisfies <paramref name="schema"/>; stops at the first error.</summary>
    public static bool IsValid(JsonElement value, JsonSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new Walker("$", null, 0).Validate(schema, value);
    }

    private readonly record struct Segment(string? Name, int Index);

    private sealed class Walker
    {
        private const int BranchErrorCap = 20;
        private readonly string _root;
        private Segment[] _path = new Segment[32];
        private int _depth;
        private List<SchemaError>? _errors;
        private int _cap;

        public Walker(string root, List<SchemaError>? errors, int cap)
        {
            _root = root;
            _errors = errors;
            _cap = cap;
        }

        private bool Quiet => _errors is null;

        public bool Validate(JsonSchema s, JsonElement e)
        {
            if (s.AlwaysFalse) return Fail(s, "", $"no value is allowed here, got {Preview(e)}");
            var kind = e.ValueKind;
            if (kind == JsonValueKind.Null && s.NullableShortcut) return true;

            var ok = true;
            if (s.Ref != null)
            {
                if (!Validate(s.Ref, e))
                {
                    if (Quiet) return false;
                    ok = false;
                }
                if (s.RefOnly) return ok;
            }

            if (s.Types != JsonTypes.None && !TypeMatches(s, e, kind))
            {
                return Fail(s, "type", $"expected {TypeNames(s.Types)}, got {Preview(e)}", SchemaErrorKind.Type);
            }

            switch (kind)
            {
                case JsonValueKind.Number:
                    ok &= CheckNumber(s, e);
                    break;
                case JsonValueKind.String:
                    ok &= CheckString(s, e);
                    break;
                case JsonValueKind.Array:
                    ok &= CheckArray(s, e);
                    break;
                case JsonValueKind.Object:
                    ok &= CheckObject(s, e);
                    break;
            }
            if (!ok && Quiet) return false;

            if (s.Enum != null && !InEnum(s, e))
            {
                ok = Fail(s, s.EnumKeyword!, $"value {Value(e)} is not one of {EnumList(s)}", SchemaErrorKind.Enum);
                if (Quiet) return false;
            }
            if (s.Const is { } c && !JsonElement.DeepEquals(c, e))
            {
                ok = Fail(s, "const", $"value {Value(e)} is not {Value(c)}", SchemaErrorKind.Enum);
                if (Quiet) return false;
            }
            if (s.AllOf != null)
            {
                foreach (var b in s.AllOf)
                {
                    if (!Validate(b, e))
                    {
                        if (Quiet) return false;
                        ok = false;
                    }
                }
            }
            if (s.AnyOf != null && !AnyOf(s, e))
            {
                if (Quiet) return false;
                ok = false;
            }
            if (s.OneOf != null && !OneOf(s, e))
            {
                if (Quiet) return false;
                ok = false;
            }
            if (s.Not != null && Passes(s.Not, e))
            {
                ok = Fail(s, "not", $"value {Value(e)} must not match {s.Not.Location}");
            }
            return ok;
        }

        private bool Passes(JsonSchema s, JsonElement e)
        {
            var saved = _errors;
            _errors = null;
            try
            {
                return Validate(s, e);
            }
            finally
            {
                _errors = saved;
            }
        }

        // ---- types and numbers ----

        private static bool TypeMatches(JsonSchema s, JsonElement e, JsonValueKind kind) => kind switch
        {
            JsonValueKind.Null => (s.Types & JsonTypes.Null) != 0,
            JsonValueKind.True or JsonValueKind.False => (s.Types & JsonTypes.Boolean) != 0,
            JsonValueKind.Object => (s.Types & JsonTypes.Object) != 0,
            JsonValueKind.Array => (s.Types & JsonTypes.Array) != 0,
            JsonValueKind.String => (s.Types & JsonTypes.String) != 0,
            JsonValueKind.Number => (s.Types & JsonTypes.Number) != 0
                || ((s.Types & JsonTypes.Integer) != 0 && IsInteger(e, s.IntegerLiteralsOnly)),
            _ => false,
        };

        private static bool IsInteger(JsonElement e, bool literalOnly)
        {
            // TryGetInt64/UInt64 succeed only for plain integer literals within 64 bits: the fast path.
            if (e.TryGetInt64(out _) || e.TryGetUInt64(out _)) return true;
            var raw = e.GetRawText();
            var plain = raw.AsSpan().IndexOfAny(".eE") < 0;
            if (literalOnly || plain) return plain;
            return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                && double.IsFinite(d) && Math.Floor(d) == d;
        }

        private bool CheckNumber(JsonSchema s, JsonElement e)
        {
            if (s.NumberFormat != NumberFormat.None && !FitsFormat(s.NumberFormat, e))
            {
                // The range of the format says it all; minimum/maximum would only repeat it.
                return Fail(s, "format", $"value {Value(e)} is not valid for format {s.Format}");
            }
            var ok = true;
            if (s.Minimum is { } min && !AboveMinimum(e, min))
            {
                ok = Fail(s, min.Keyword, $"value {Value(e)} is {(min.Exclusive ? "not greater than" : "less than")} {min.Text}");
                if (Quiet) return false;
            }
            if (s.Maximum is { } max && !BelowMaximum(e, max))
            {
                ok = Fail(s, max.Keyword, $"value {Value(e)} is {(max.Exclusive ? "not less than" : "greater than")} {max.Text}");
            }
            return ok;
        }

        private static bool FitsFormat(NumberFormat format, JsonElement e) => format switch
        {
            NumberFormat.Int32 => e.TryGetInt32(out _),
            NumberFormat.Int64 => e.TryGetInt64(out _),
            NumberFormat.UInt8 => e.TryGetByte(out _),
            NumberFormat.UInt16 => e.TryGetUInt16(out _),
            NumberFormat.UInt32 => e.TryGetUInt32(out _),
            NumberFormat.UInt64 => e.TryGetUInt64(out _),
            // A float is valid when it reads as a finite float32, the way a server or client parses it: the
            // shortest text of float.MaxValue, 3.4028235e38, is a little above it as a decimal, yet is that float.
            NumberFormat.Float => SurelyWithin(e, 38) || (e.TryGetSingle(out var f) && float.IsFinite(f)),
            NumberFormat.Double => SurelyWithin(e, 308) || (e.TryGetDouble(out var d) && double.IsFinite(d)),
            _ => true,
        };

        /// <summary>
        /// True when the number, as written, has no exponent and at most <paramref name="digits"/> digits
        /// before the point, so it is surely below 10^digits. Reading the text is several times cheaper
        /// than parsing a double, and vectors are hundreds of thousands of such numbers.
        /// </summary>
        private static bool SurelyWithin(JsonElement e, int digits)
        {
            var raw = JsonMarshal.GetRawUtf8Value(e);
            var integerDigits = 0;
            foreach (var b in raw)
            {
                if (b == '.') break;
                if (b is (byte)'e' or (byte)'E') return false;
                if (b != '-') integerDigits++;
            }
            if (integerDigits > digits) return false;
            return raw.IndexOfAny((byte)'e', (byte)'E') < 0;
        }

        private static bool AboveMinimum(JsonElement e, NumberBound min)
        {
            if (min.AsDecimal is { } md && e.TryGetDecimal(out var v)) return min.Exclusive ? v > md : v >= md;
            var d = AsDouble(e);
            return min.Exclusive ? d > min.AsDouble : d >= min.AsDouble;
        }

        private static bool BelowMaximum(JsonElement e, NumberBound max)
        {
            if (max.AsDecimal is { } md && e.TryGetDecimal(out var v)) return max.Exclusive ? v < md : v <= md;
            var d = AsDouble(e);
            return max.Exclusive ? d < max.AsDouble : d <= max.AsDouble;
        }

        private static double AsDouble(JsonElement e) =>
            e.TryGetDouble(out var d) ? d : double.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);

        // ---- strings ----

        private bool CheckString(JsonSchema s, JsonElement e)
        {
            if (s.StringFormat == StringFormat.None && s.MinLength is null && s.MaxLength is null && s.Pattern is null) return true;
            var text = e.GetString()!;
            var ok = true;
            if (s.StringFormat == StringFormat.Uuid && !IsUuid(text))
            {
                ok = Fail(s, "format", $"value {Value(e)} is not valid for format uuid");
                if (Quiet) return false;
            }
            if (s.MinLength.HasValue || s.MaxLength.HasValue)
            {
                // JSON Schema counts characters as code points, not UTF-16 units.
                var length = 0;
                foreach (var _ in text.EnumerateRunes()) length++;
                if (length < s.MinLength)
                {
                    ok = Fail(s, "minLength", $"string of {length} characters is shorter than minLength {s.MinLength}");
                    if (Quiet) return false;
                }
                if (length > s.MaxLength)
                {
                    ok = Fail(s, "maxLength", $"string of {length} characters is longer than maxLength {s.MaxLength}");
                    if (Quiet) return false;
                }
            }
            if (s.Pattern != null && !s.Pattern.IsMatch(text))
            {
                ok = Fail(s, "pattern", $"value {Value(e)} does not match pattern {s.PatternText}");
            }
            return ok;
        }

        /// <summary>RFC 9562's textual form: 8-4-4-4-12 hex digits, either case.</summary>
        private static bool IsUuid(string text)
        {
            if (text.Length != 36) return false;
            for (var i = 0; i < 36; i++)
            {
                var c = text[i];
                if (i is 8 or 13 or 18 or 23)
                {
                    if (c != '-') return false;
                }
                else if (!char.IsAsciiHexDigit(c))
                {
                    return false;
                }
            }
            return true;
        }

        // ---- arrays and objects ----

        private bool CheckArray(JsonSchema s, JsonElement e)
        {
            var ok = true;
            if (s.MinItems.HasValue || s.MaxItems.HasValue)
            {
                var count = e.GetArrayLength();
                var keywordNote = s.ItemCountFromLength ? " (the document's minLength/maxLength on an array, read as an item count)" : "";
                if (count < s.MinItems)
                {
                    ok = Fail(s, s.ItemCountFromLength ? "minLength" : "minItems", $"array has {count} items, fewer than {s.MinItems}{keywordNote}");
                    if (Quiet) return false;
                }
                if (count > s.MaxItems)
                {
                    ok = Fail(s, s.ItemCountFromLength ? "maxLength" : "maxItems", $"array has {count} items, more than {s.MaxItems}{keywordNote}");
                    if (Quiet) return false;
                }
            }
            if (s.Items != null || s.PrefixItems != null)
            {
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    var itemSchema = s.PrefixItems != null && i < s.PrefixItems.Length ? s.PrefixItems[i] : s.Items;
                    if (itemSchema != null && !(itemSchema.PlainNumber && item.ValueKind == JsonValueKind.Number && FitsFormat(itemSchema.NumberFormat, item)))
                    {
                        Push(new Segment(null, i));
                        var itemOk = Validate(itemSchema, item);
                        _depth--;
                        if (!itemOk)
                        {
                            if (Quiet) return false;
                            ok = false;
                            if (Full) return false;
                        }
                    }
                    i++;
                }
            }
            if (s.UniqueItems && !AllUnique(e))
            {
                ok = Fail(s, "uniqueItems", "array items are not unique");
            }
            return ok;
        }

        private static bool AllUnique(JsonElement e)
        {
            var items = e.EnumerateArray().ToArray();
            for (var i = 0; i < items.Length; i++)
            {
                for (var j = i + 1; j < items.Length; j++)
                {
                    if (JsonElement.DeepEquals(items[i], items[j])) return false;
                }
            }
            return true;
        }

        private bool CheckObject(JsonSchema s, JsonElement e)
        {
            var ok = true;
            if (s.Required != null)
            {
                foreach (var name in s.Required)
                {
                    if (!e.TryGetProperty(name, out _))
                    {
                        ok = Fail(s, "required", $"required property '{name}' is missing", SchemaErrorKind.Required);
                        if (Quiet) return false;
                    }
                }
            }
            var needWalk = s.Properties != null || !s.AdditionalAllowed || s.AdditionalSchema != null
                || s.MinProperties.HasValue || s.MaxProperties.HasValue;
            if (!needWalk) return ok;

            var count = 0;
            foreach (var p in e.EnumerateObject())
            {
                count++;
                JsonSchema? target = null;
                if (s.Properties != null && s.Properties.TryGetValue(p.Name, out var declared))
                {
                    target = declared;
                }
                else if (!s.AdditionalAllowed)
                {
                    Push(new Segment(p.Name, -1));
                    ok = Fail(s, "additionalProperties", $"property '{p.Name}' is not allowed here");
                    _depth--;
                    if (Quiet) return false;
                    continue;
                }
                else
                {
                    target = s.AdditionalSchema;
                }
                if (target == null) continue;
                Push(new Segment(p.Name, -1));
                var propOk = Validate(target, p.Value);
                _depth--;
                if (!propOk)
                {
                    if (Quiet) return false;
                    ok = false;
                    if (Full) return false;
                }
            }
            if (count < s.MinProperties)
            {
                ok = Fail(s, "minProperties", $"object has {count} properties, fewer than {s.MinProperties}");
            }
            if (count > s.MaxProperties)
            {
                ok = Fail(s, "maxProperties", $"object has {count} properties, more than {s.MaxProperties}");
            }
            return ok;
        }

        // ---- enum ----

        private static bool InEnum(JsonSchema s, JsonElement e)
        {
            if (s.StringEnum != null)
            {
                if (e.ValueKind != JsonValueKind.String) return false;
                foreach (var option in s.StringEnum)
                {
                    if (e.ValueEquals(option)) return true;
                }
                return false;
            }
            foreach (var option in s.Enum!)
            {
                if (JsonElement.DeepEquals(option, e)) return true;
            }
            return false;
        }

        private static string EnumList(JsonSchema s)
        {
            var shown = s.Enum!.Take(12).Select(x => x.GetRawText());
            return string.Join(", ", shown) + (s.Enum!.Length > 12 ? ", …" : "");
        }

        // ---- anyOf / oneOf ----

        private bool AnyOf(JsonSchema s, JsonElement e)
        {
            // A discriminator naming a branch decides (Pinecone's read_capacity: "mode": "Dedicated"
            // would otherwise pass as the OnDemand shape, whose "mode" is any string).
            var named = Discriminated(s, s.AnyOf!, e);
            if (named >= 0) return Validate(s.AnyOf![named], e);
            foreach (var b in s.AnyOf!)
            {
                if (Passes(b, e)) return true;
            }
            if (!Quiet) ReportNoBranch(s, s.AnyOf!, "anyOf", e);
            return false;
        }

        private bool OneOf(JsonSchema s, JsonElement e)
        {
            var named = Discriminated(s, s.OneOf!, e);
            if (named >= 0) return Validate(s.OneOf![named], e);
            int first = -1, second = -1;
            for (var i = 0; i < s.OneOf!.Length && second < 0; i++)
            {
                if (!Passes(s.OneOf[i], e)) continue;
                if (first < 0) first = i;
                else second = i;
            }
            if (first >= 0 && second < 0) return true;
            if (Quiet) return false;
            if (first < 0)
            {
                ReportNoBranch(s, s.OneOf!, "oneOf", e);
                return false;
            }
            return Fail(s, "oneOf", $"value matches more than one branch of oneOf ({Describe(s.OneOf[first], 0)} at {first} and {Describe(s.OneOf[second], 0)} at {second})");
        }

        /// <summary>
        /// Nothing matched: report the branch the value most likely meant, rather than every branch's
        /// complaints. A branch whose type fits
        /// beats one whose does not, one whose tag properties (enum/const) fit beats one whose do not,
        /// one that got deeper into the value beats one that stopped at its top (a missing required
        /// property there usually means "wrong branch"), and then fewer errors win. When no branch
        /// even has the right type, one error lists the types.
        /// </summary>
        private void ReportNoBranch(JsonSchema s, JsonSchema[] branches, string keyword, JsonElement e)
        {
            if (Full) return;
            var saved = _errors;
            var savedCap = _cap;
            var results = new List<SchemaError>[branches.Length];
            try
            {
                for (var i = 0; i < branches.Length; i++)
                {
                    _errors = results[i] = new List<SchemaError>();
                    _cap = BranchErrorCap;
                    Validate(branches[i], e);
                }
            }
            finally
            {
                _errors = saved;
                _cap = savedCap;
            }

            var best = 0;
            var bestScore = (int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue);
            for (var i = 0; i < branches.Length; i++)
            {
                var list = results[i];
                var score = (
                    list.Any(x => x.Kind == SchemaErrorKind.Type && x.Depth == _depth) ? 1 : 0,
                    list.Any(x => x.Kind == SchemaErrorKind.Enum && x.Depth == _depth + 1) ? 1 : 0,
                    list.Count == 0 ? 0 : -list.Max(x => x.Depth),
                    list.Count);
                if (score.CompareTo(bestScore) < 0)
                {
                    bestScore = score;
                    best = i;
                }
            }
            if (bestScore.Item1 == 1)
            {
                var expected = string.Join(" | ", branches.Select(b => Describe(b, 0)).Distinct());
                Fail(s, keyword, $"expected {expected}, got {Preview(e)}", SchemaErrorKind.Type);
                return;
            }
            foreach (var error in results[best])
            {
                if (_errors!.Count >= _cap) break;
                _errors.Add(error);
            }
        }

        private static int Discriminated(JsonSchema s, JsonSchema[] branches, JsonElement e)
        {
            if (s.DiscriminatorProperty is null || e.ValueKind != JsonValueKind.Object) return -1;
            if (!e.TryGetProperty(s.DiscriminatorProperty, out var tag) || tag.ValueKind != JsonValueKind.String) return -1;
            var value = tag.GetString()!;
            var target = s.DiscriminatorMapping != null && s.DiscriminatorMapping.TryGetValue(value, out var mapped) ? mapped : null;
            for (var i = 0; i < branches.Length; i++)
            {
                var location = branches[i].Ref?.Location ?? branches[i].Location;
                if (target != null ? location == target : location.EndsWith("/" + value, StringComparison.Ordinal)) return i;
            }
            return -1;
        }

        /// <summary>A short name of what a schema accepts: "integer (uint64)", "string (uuid)", "null".</summary>
        private static string Describe(JsonSchema s, int depth)
        {
            if (depth > 8) return "…";
            if (s.Ref != null && s.RefOnly) return Describe(s.Ref, depth + 1) + (s.NullableShortcut ? " | null" : "");
            if (s.Types != JsonTypes.None)
            {
                var names = TypeNames(s.Types);
                return s.Format != null && (s.Types & ~JsonTypes.Null) is JsonTypes.Integer or JsonTypes.Number or JsonTypes.String
                    ? $"{names} ({s.Format})" : names;
            }
            var branches = s.AnyOf ?? s.OneOf;
            if (branches != null) return string.Join(" | ", branches.Select(b => Describe(b, depth + 1)).Distinct());
            if (s.Ref != null) return Describe(s.Ref, depth + 1);
            return s.Title ?? s.Location;
        }

        private static string TypeNames(JsonTypes t)
        {
            var names = new List<string>(2);
            if ((t & JsonTypes.Object) != 0) names.Add("object");
            if ((t & JsonTypes.Array) != 0) names.Add("array");
            if ((t & JsonTypes.String) != 0) names.Add("string");
            if ((t & JsonTypes.Number) != 0) names.Add("number");
            else if ((t & JsonTypes.Integer) != 0) names.Add("integer");
            if ((t & JsonTypes.Boolean) != 0) names.Add("boolean");
            if ((t & JsonTypes.Null) != 0) names.Add("null");
            return string.Join(" or ", names);
        }

        // ---- errors and paths ----

        private bool Full => _errors != null && _errors.Count >= _cap;

        private bool Fail(JsonSchema s, string keyword, string message, SchemaErrorKind kind = SchemaErrorKind.Other)
        {
            if (_errors is null || _errors.Count >= _cap) return false;
            var location = keyword.Length == 0 ? s.Location : s.Location + "/" + keyword;
            _errors.Add(new SchemaError(FormatPath(), location, message) { Kind = kind, Depth = _depth });
            return false;
        }

        private void Push(Segment segment)
        {
            if (_depth == _path.Length) Array.Resize(ref _path, _path.Length * 2);
            _path[_depth++] = segment;
        }

        private string FormatPath()
        {
            var sb = new StringBuilder(_root);
            for (var i = 0; i < _depth; i++)
            {
                var seg = _path[i];
                if (seg.Name is null)
                {
                    sb.Append('[').Append(seg.Index.ToString(CultureInfo.InvariantCulture)).Append(']');
                }
                else if (IsIdentifier(seg.Name))
                {
                    sb.Append('.').Append(seg.Name);
                }
                else
                {
                    sb.Append("['").Append(seg.Name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)).Append("']");
                }
            }
            return sb.ToString();
        }

        private static bool IsIdentifier(string name)
        {
            if (name.Length == 0 || char.IsAsciiDigit(name[0])) return false;
            foreach (var c in name)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
            }
            return true;
        }

        /// <summary>What a value is, for "got …": <c>number 1.5</c>, <c>string "x"</c>, <c>an object</c>.</summary>
        internal static string Preview(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => $"an array of {e.GetArrayLength()} items",
            JsonValueKind.String => "string " + Value(e),
            JsonValueKind.Number => "number " + Value(e),
            JsonValueKind.True or JsonValueKind.False => "boolean " + Value(e),
            _ => Value(e),
        };

        /// <summary>The value as written, shortened: <c>-1</c>, <c>"not-a-uuid"</c>.</summary>
        internal static string Value(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object) return "an object";
            if (e.ValueKind == JsonValueKind.Array) return $"an array of {e.GetArrayLength()} items";
            var raw = e.GetRawText();
            if (raw.Length <= 66) return raw;
            return e.ValueKind == JsonValueKind.String ? raw[..64] + "…\"" : raw[..64] + "…";
        }
    }
}
