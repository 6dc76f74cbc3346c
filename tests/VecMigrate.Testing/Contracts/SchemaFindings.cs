using System.Globalization;
using System.Text;
using System.Text.Json;
using Json.Pointer;
using Json.Schema;

namespace VecMigrate.Testing.Contracts;

/// <summary>One way a JSON value breaks a schema of a <see cref="ContractDocument"/>.</summary>
/// <param name="InstancePath">Where the offending value is, e.g. <c>$.result.points[3].id</c>.</param>
/// <param name="SchemaLocation">The schema keyword it broke, e.g. <c>#/components/schemas/ExtendedPointId/anyOf/1/format</c>.</param>
/// <param name="Message">What is wrong, in JsonSchema.Net's words, e.g. <c>Value does not match format "uuid"</c>.</param>
public sealed record SchemaFinding(string InstancePath, string SchemaLocation, string Message)
{
    public override string ToString() => $"{InstancePath}: {Message} ({SchemaLocation})";
}

/// <summary>
/// Runs JsonSchema.Net and reports its results. A value that fits costs one evaluation with the Flag output,
/// which builds no result tree (a 5 MB page of vectors stays fast); one that does not is evaluated again with
/// the Hierarchical output, which keeps each anyOf/oneOf branch's results apart, so that the branch the value
/// most likely meant is reported rather than every branch's complaints (the List output flattens that away).
/// </summary>
internal static class SchemaFindings
{
    private static readonly FormatRegistry OpenApiFormats = CreateFormats();
    private static readonly EvaluationOptions Quick = new() { OutputFormat = OutputFormat.Flag, RequireFormatValidation = true, FormatRegistry = OpenApiFormats };
    private static readonly EvaluationOptions Detailed = new() { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true, FormatRegistry = OpenApiFormats };

    public static IReadOnlyList<SchemaFinding> Of(ContractDocument document, JsonSchema schema, JsonElement value, string rootLabel)
    {
        if (schema.Evaluate(value, Quick).IsValid) return [];
        var found = new List<Finding>();
        new Walker(document, value).Collect(schema.Evaluate(value, Detailed), found);
        return found.Select(f =>
        {
            var path = Walk(value, f.Instance, rootLabel, out var offending);
            // JsonSchema.Net's enum and const messages say neither what the value was nor what is allowed.
            var message = f.Keyword is "enum" or "const" ? $"{f.Message}: got {Preview(offending)}, allowed {Allowed(document.Find(f.Location))}" : f.Message;
            return new SchemaFinding(path, f.Location, message);
        }).Distinct().ToArray();
    }

    /// <summary>
    /// The OpenAPI formats the vendors use for numbers, which JSON Schema does not define; JsonSchema.Net knows
    /// <c>uuid</c>, <c>date-time</c> and <c>uri</c>, and lets unknown ones (<c>byte</c>, <c>binary</c>) pass.
    /// </summary>
    private static FormatRegistry CreateFormats()
    {
        var formats = new FormatRegistry();
        foreach (var (name, fits) in new (string, Func<JsonElement, bool>)[]
        {
            ("int32", e => e.TryGetInt32(out _)),
            ("int64", e => e.TryGetInt64(out _)),
            ("uint8", e => e.TryGetByte(out _)),
            ("uint16", e => e.TryGetUInt16(out _)),
            ("uint32", e => e.TryGetUInt32(out _)),
            ("uint64", e => e.TryGetUInt64(out _)),
            ("uint", e => e.TryGetUInt64(out _)), // Qdrant's usize: 64 bits on every platform Qdrant ships for
            // A float fits when it reads as a finite float32, as a server or client parses it: the shortest text of
            // float.MaxValue, 3.4028235e38, is a little above it as a decimal, yet is that float.
            ("float", e => e.TryGetSingle(out var f) && float.IsFinite(f)),
            ("double", e => e.TryGetDouble(out var d) && double.IsFinite(d)),
        })
        {
            // Integer formats read the digits, so 2^64 is not taken for a rounded double, nor 10.0 for an integer.
            formats.Register(new PredicateFormat(name, e => e.ValueKind != JsonValueKind.Number || fits(e)));
        }
        return formats;
    }

    /// <summary>Names a value's place as <c>$.a[0]['b-c']</c>, and finds the value.</summary>
    private static string Walk(JsonElement root, JsonPointer pointer, string rootLabel, out JsonElement? value)
    {
        var text = new StringBuilder(rootLabel);
        value = root;
        foreach (var raw in Segments(pointer.ToString()))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (value is { ValueKind: JsonValueKind.Array } array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                text.Append('[').Append(segment).Append(']');
                value = index < array.GetArrayLength() ? array[index] : null;
                continue;
            }
            if (segment.Length > 0 && !char.IsAsciiDigit(segment[0]) && segment.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) text.Append('.').Append(segment);
            else text.Append("['").Append(segment.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)).Append("']");
            value = value is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(segment, out var p) ? p : null;
        }
        return text.ToString();
    }

    private static string[] Segments(string pointer) => pointer.Length == 0 ? [] : pointer[1..].Split('/');

    private static string Preview(JsonElement? value) => value switch
    {
        null => "nothing",
        { ValueKind: JsonValueKind.Object } => "an object",
        { ValueKind: JsonValueKind.Array } a => $"an array of {a.GetArrayLength()} items",
        { ValueKind: JsonValueKind.String } s => "string " + Shorten(s.GetRawText()),
        { ValueKind: JsonValueKind.Number } n => "number " + Shorten(n.GetRawText()),
        { ValueKind: JsonValueKind.True or JsonValueKind.False } b => "boolean " + b.GetRawText(),
        _ => "null",
    };

    private static string Allowed(JsonElement? values) => values switch
    {
        { ValueKind: JsonValueKind.Array } a => string.Join(", ", a.EnumerateArray().Take(12).Select(v => Shorten(v.GetRawText()))) + (a.GetArrayLength() > 12 ? ", …" : ""),
        { } v => Shorten(v.GetRawText()),
        null => "?",
    };

    private static string Shorten(string raw) => raw.Length <= 66 ? raw : raw[..64] + "…";

    private readonly record struct Finding(JsonPointer Instance, string Location, string Keyword, string Message, bool WrongType);

    private sealed class Walker(ContractDocument document, JsonElement instance)
    {
        public void Collect(EvaluationResults node, List<Finding> into)
        {
            if (node.IsValid) return;
            var at = node.EvaluationPath.ToString();
            var branchesOf = new Dictionary<string, List<EvaluationResults>>(StringComparer.Ordinal);
            foreach (var child in node.Details ?? [])
            {
                var path = child.EvaluationPath.ToString();
                var tail = path.StartsWith(at + "/", StringComparison.Ordinal) ? path[(at.Length + 1)..].Split('/') : [];
                if (tail is ["anyOf" or "oneOf", _])
                {
                    if (!branchesOf.TryGetValue(tail[0], out var list)) branchesOf[tail[0]] = list = [];
                    list.Add(child);
                }
                else
                {
                    Collect(child, into);
                }
            }
            foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
            {
                into.Add(new Finding(node.InstanceLocation, Location(node.SchemaLocation, keyword), keyword, message, keyword == "type"));
            }
            foreach (var (keyword, branches) in branchesOf)
            {
                // A branch that passed settles anyOf; oneOf's "more than one passed" is among the node's own errors.
                if (branches.Any(b => b.IsValid)) continue;
                ReportBestBranch(node, keyword, branches, into);
            }
        }

        /// <summary>
        /// No branch fits: report the one the value most likely meant. One whose type fits beats one whose does
        /// not; one whose tag (an enum or const property, like a discriminator's) fits beats one whose does not;
        /// one that got deeper into the value beats one that stopped at its top (a missing required property there
        /// usually means "wrong branch"); then fewer findings win. When no branch even has the right type, one
        /// finding lists what the branches take.
        /// </summary>
        private void ReportBestBranch(EvaluationResults node, string keyword, List<EvaluationResults> branches, List<Finding> into)
        {
            var depth = node.InstanceLocation.SegmentCount;
            (int, int, int, int) Score(List<Finding> f) => (
                f.Any(x => x.WrongType && x.Instance.SegmentCount == depth) ? 1 : 0,
                f.Any(x => x.Keyword is "enum" or "const" && x.Instance.SegmentCount == depth + 1) ? 1 : 0,
                -f.Select(x => x.Instance.SegmentCount).DefaultIfEmpty(depth).Max(),
                f.Count);
            var results = branches.Select(b =>
            {
                var list = new List<Finding>();
                Collect(b, list);
                return list;
            }).ToList();
            var best = results.MinBy(Score)!;
            if (Score(best).Item1 == 0)
            {
                into.AddRange(best);
                return;
            }
            var expected = string.Join(" | ", branches.Select(b => Describe(document.Find(Location(b.SchemaLocation, "")), 0)).Distinct());
            Walk(instance, node.InstanceLocation, "$", out var value);
            into.Add(new Finding(node.InstanceLocation, Location(node.SchemaLocation, keyword), keyword,
                $"expected {expected}, got {Preview(value)}", WrongType: true));
        }

        /// <summary>
        /// The schema location as a pointer into the document (<c>#/components/schemas/X/anyOf/1</c>), with the
        /// keyword. JsonSchema.Net 8.0.5 reports the location of an <c>items</c> or <c>additionalProperties</c>
        /// subschema below a property or branch with one segment too many (<c>…/values/items/values</c>,
        /// <c>…/oneOf/0/additionalProperties/0</c>): a segment the document does not have is dropped.
        /// </summary>
        private string Location(Uri schemaLocation, string keyword)
        {
            var location = "#";
            foreach (var segment in Segments(Uri.UnescapeDataString(schemaLocation.Fragment).TrimStart('#')))
            {
                if (document.Find(location + "/" + segment) != null) location += "/" + segment;
            }
            return keyword.Length == 0 ? location : location + "/" + keyword;
        }

        /// <summary>What a schema takes, in short: <c>integer (uint64)</c>, <c>string (uuid) | null</c>.</summary>
        private string Describe(JsonElement? schema, int depth)
        {
            if (schema is not { ValueKind: JsonValueKind.Object } s || depth > 8) return "any value";
            if (s.TryGetProperty("type", out var type))
            {
                var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
                var text = string.Join(" or ", names.OrderBy(n => n == "null"));
                return s.TryGetProperty("format", out var format) ? $"{text} ({format.GetString()})" : text;
            }
            if (s.TryGetProperty("$ref", out var reference) && reference.GetString() is { } r && r.StartsWith('#')) return Describe(document.Find(r), depth + 1);
            foreach (var keyword in (string[])["anyOf", "oneOf"])
            {
                if (s.TryGetProperty(keyword, out var branches)) return string.Join(" | ", branches.EnumerateArray().Select(b => Describe(b, depth + 1)).Distinct());
            }
            return s.TryGetProperty("title", out var title) ? title.GetString()! : "any value";
        }

    }
}
