using System.Text.Json;
using System.Text.RegularExpressions;

namespace VecMigrate.Testing.Contracts;

/// <summary>
/// One schema of an OpenAPI document, compiled once so that validating a body of several MB does not
/// re-read the document. <see cref="Location"/> is its JSON pointer in the document
/// (<c>#/components/schemas/ExtendedPointId</c>), which is what error messages name.
/// Instances are immutable after the document has loaded and safe to share between threads.
/// </summary>
public sealed class JsonSchema
{
    internal JsonSchema(string location, bool integerLiteralsOnly)
    {
        Location = location;
        IntegerLiteralsOnly = integerLiteralsOnly;
    }

    /// <summary>The schema's JSON pointer in its document, e.g. <c>#/components/schemas/Record</c>.</summary>
    public string Location { get; }

    public override string ToString() => Location;

    // OpenAPI 3.0 takes JSON Schema draft 4's 'integer' (a number written without fraction or exponent);
    // 3.1 takes 2020-12's (any number whose value is whole, so 1.0 counts).
    internal bool IntegerLiteralsOnly { get; }

    internal bool AlwaysFalse;
    internal JsonTypes Types;
    internal bool NullableShortcut;
    internal JsonSchema? Ref;
    internal bool RefOnly;
    internal string? Title;

    internal Dictionary<string, JsonSchema>? Properties;
    internal string[]? Required;
    internal bool AdditionalAllowed = true;
    internal JsonSchema? AdditionalSchema;
    internal int? MinProperties, MaxProperties;

    internal JsonSchema? Items;
    internal JsonSchema[]? PrefixItems;
    internal int? MinItems, MaxItems;
    internal bool ItemCountFromLength;
    internal bool UniqueItems;

    internal int? MinLength, MaxLength;
    internal Regex? Pattern;
    internal string? PatternText;

    internal string? Format;
    internal NumberFormat NumberFormat;
    internal StringFormat StringFormat;
    internal NumberBound? Minimum, Maximum;

    internal JsonElement[]? Enum;
    internal string? EnumKeyword;
    internal string[]? StringEnum;
    internal JsonElement? Const;

    internal JsonSchema[]? AllOf, AnyOf, OneOf;
    internal JsonSchema? Not;
    internal string? DiscriminatorProperty;
    internal Dictionary<string, string>? DiscriminatorMapping;

    /// <summary>Nothing but <c>type: number</c> and maybe a format, as the items of every vector are:
    /// arrays check such items inline, without the general walk.</summary>
    internal bool PlainNumber;

    /// <summary>Follows schemas that are nothing but a <c>$ref</c> to the schema that says something.</summary>
    public JsonSchema Resolved
    {
        get
        {
            var s = this;
            for (var i = 0; i < 64 && s.Ref != null && s.RefOnly && !s.NullableShortcut; i++) s = s.Ref;
            return s;
        }
    }
}

[Flags]
internal enum JsonTypes
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    Integer = 32,
    String = 64,
}

internal enum NumberFormat { None, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float, Double }

internal enum StringFormat { None, Uuid }

/// <summary>A minimum or maximum: kept as decimal where it fits (exact for 64-bit integers), as double always.</summary>
internal readonly record struct NumberBound(double AsDouble, decimal? AsDecimal, bool Exclusive, string Keyword, string Text);

/// <summary>Turns schema JSON into <see cref="JsonSchema"/> objects, one per document location, so that
/// recursive <c>$ref</c>s become cycles in the object graph instead of endless recursion.</summary>
internal sealed class SchemaCompiler
{
    private readonly JsonElement _root;
    private readonly bool _openApi31;
    private readonly bool _arrayLengthAsItemCount;
    private readonly bool _vendorEnums;
    private readonly Dictionary<string, JsonSchema> _byLocation = new(StringComparer.Ordinal);

    public SchemaCompiler(JsonElement root, bool openApi31, OpenApiReadOptions options)
    {
        _root = root;
        _openApi31 = openApi31;
        _arrayLengthAsItemCount = options.ArrayLengthAsItemCount;
        _vendorEnums = options.VendorEnumsAsEnums;
    }

    public JsonSchema CompileReference(string reference)
    {
        if (!reference.StartsWith('#'))
        {
            throw new InvalidDataException($"'{reference}': only references inside the document are supported.");
        }
        if (_byLocation.TryGetValue(reference, out var known)) return known;
        return Compile(JsonPointer.Resolve(_root, reference), reference);
    }

    public JsonSchema Compile(JsonElement element, string location)
    {
        if (_byLocation.TryGetValue(location, out var known)) return known;
        var s = new JsonSchema(location, integerLiteralsOnly: !_openApi31);
        _byLocation[location] = s;

        if (element.ValueKind == JsonValueKind.True) return s;
        if (element.ValueKind == JsonValueKind.False)
        {
            s.AlwaysFalse = true;
            return s;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{location} is not a schema (it is {element.ValueKind}).");
        }

        var nullable = false;
        var assertions = false;
        int? minLength = null, maxLength = null;
        JsonElement exclusiveMin = default, exclusiveMax = default;
        JsonElement minimum = default, maximum = default;

        if (element.TryGetProperty("$ref", out var refValue) && refValue.ValueKind == JsonValueKind.String)
        {
            s.Ref = CompileReference(refValue.GetString()!);
            // OpenAPI 3.0: "properties adjacent to $ref are ignored". Documents do put nullable there,
            // meaning "or null", so that one is honoured.
            if (!_openApi31)
            {
                s.RefOnly = true;
                if (element.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True)
                {
                    s.NullableShortcut = true;
                }
                return s;
            }
        }

        foreach (var p in element.EnumerateObject())
        {
            var v = p.Value;
            var at = location + "/" + JsonPointer.Escape(p.Name);
            switch (p.Name)
            {
                case "$ref":
                    break;
                case "type":
                    s.Types = ParseTypes(v, at);
                    assertions = true;
                    break;
                case "nullable":
                    nullable = v.ValueKind == JsonValueKind.True;
                    break;
                case "title":
                    s.Title = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                    break;
                case "properties":
                    s.Properties = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
                    foreach (var prop in v.EnumerateObject())
                    {
                        s.Properties[prop.Name] = Compile(prop.Value, at + "/" + JsonPointer.Escape(prop.Name));
                    }
                    assertions = true;
                    break;
                case "required":
                    // Some documents put "required": [...] inside a property's own schema; on a
                    // non-object it asserts nothing, which is what JSON Schema says too.
                    if (v.ValueKind == JsonValueKind.Array)
                    {
                        s.Required = v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray();
                        assertions = true;
                    }
                    break;
                case "additionalProperties":
                    if (v.ValueKind == JsonValueKind.False) s.AdditionalAllowed = false;
                    else if (v.ValueKind == JsonValueKind.Object) s.AdditionalSchema = Compile(v, at);
                    assertions = true;
                    break;
                case "items":
                    if (v.ValueKind == JsonValueKind.Array) s.PrefixItems = CompileArray(v, at);
                    else s.Items = Compile(v, at);
                    assertions = true;
                    break;
                case "prefixItems":
                    s.PrefixItems = CompileArray(v, at);
                    assertions = true;
                    break;
                case "enum":
                    SetEnum(s, v, "enum");
                    assertions = true;
                    break;
                case "x-enum":
                    if (_vendorEnums && s.EnumKeyword != "enum" && v.ValueKind == JsonValueKind.Array)
                    {
                        SetEnum(s, v, "x-enum");
                        assertions = true;
                    }
                    break;
                case "const":
                    s.Const = v.Clone();
                    assertions = true;
                    break;
                case "allOf":
                    s.AllOf = CompileArray(v, at);
                    assertions = true;
                    break;
                case "anyOf":
                    s.AnyOf = CompileArray(v, at);
                    assertions = true;
                    break;
                case "oneOf":
                    s.OneOf = CompileArray(v, at);
                    assertions = true;
                    break;
                case "not":
                    s.Not = Compile(v, at);
                    assertions = true;
                    break;
                case "format":
                    if (v.ValueKind == JsonValueKind.String) SetFormat(s, v.GetString()!);
                    break;
                case "minimum":
                    minimum = v;
                    assertions = true;
                    break;
                case "maximum":
                    maximum = v;
                    assertions = true;
                    break;
                case "exclusiveMinimum":
                    exclusiveMin = v;
                    assertions = true;
                    break;
                case "exclusiveMaximum":
                    exclusiveMax = v;
                    assertions = true;
                    break;
                case "minItems":
                    s.MinItems = v.GetInt32();
                    assertions = true;
                    break;
                case "maxItems":
                    s.MaxItems = v.GetInt32();
                    assertions = true;
                    break;
                case "minLength":
                    minLength = v.GetInt32();
                    assertions = true;
                    break;
                case "maxLength":
                    maxLength = v.GetInt32();
                    assertions = true;
                    break;
                case "minProperties":
                    s.MinProperties = v.GetInt32();
                    assertions = true;
                    break;
                case "maxProperties":
                    s.MaxProperties = v.GetInt32();
                    assertions = true;
                    break;
                case "uniqueItems":
                    s.UniqueItems = v.ValueKind == JsonValueKind.True;
                    break;
                case "pattern":
                    s.PatternText = v.GetString();
                    s.Pattern = new Regex(s.PatternText!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                    assertions = true;
                    break;
                case "discriminator":
                    if (v.TryGetProperty("propertyName", out var pn)) s.DiscriminatorProperty = pn.GetString();
                    if (v.TryGetProperty("mapping", out var map) && map.ValueKind == JsonValueKind.Object)
                    {
                        s.DiscriminatorMapping = map.EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetString()!, StringComparer.Ordinal);
                    }
                    break;
                default:
                    // Annotations (description, example, x-*) and unknown keywords assert nothing.
                    break;
            }
        }

        if (minimum.ValueKind == JsonValueKind.Number)
        {
            s.Minimum = Bound(minimum, exclusiveMin.ValueKind == JsonValueKind.True, "minimum");
        }
        if (exclusiveMin.ValueKind == JsonValueKind.Number)
        {
            var b = Bound(exclusiveMin, true, "exclusiveMinimum");
            if (s.Minimum is null || b.AsDouble >= s.Minimum.Value.AsDouble) s.Minimum = b;
        }
        if (maximum.ValueKind == JsonValueKind.Number)
        {
            s.Maximum = Bound(maximum, exclusiveMax.ValueKind == JsonValueKind.True, "maximum");
        }
        if (exclusiveMax.ValueKind == JsonValueKind.Number)
        {
            var b = Bound(exclusiveMax, true, "exclusiveMaximum");
            if (s.Maximum is null || b.AsDouble <= s.Maximum.Value.AsDouble) s.Maximum = b;
        }

        // Pinecone's documents write minLength/maxLength on arrays (vectors per upsert, values per
        // vector). JSON Schema would ignore them there; the intent is an item count, so that is how
        // they are read unless the caller opts out.
        var isArrayOnly = s.Types != JsonTypes.None && (s.Types & ~(JsonTypes.Array | JsonTypes.Null)) == 0;
        if (isArrayOnly && _arrayLengthAsItemCount && (minLength.HasValue || maxLength.HasValue))
        {
            s.MinItems ??= minLength;
            s.MaxItems ??= maxLength;
            s.ItemCountFromLength = true;
        }
        else
        {
            s.MinLength = minLength;
            s.MaxLength = maxLength;
        }

        s.PlainNumber = s.Types == JsonTypes.Number && !nullable && s.Ref is null && s.Enum is null && s.Const is null
            && s.Minimum is null && s.Maximum is null && s.AllOf is null && s.AnyOf is null && s.OneOf is null && s.Not is null;

        if (nullable)
        {
            // null passes before any other keyword (enum included), as OpenAPI 3.0 means it.
            s.NullableShortcut = true;
            if (s.Types != JsonTypes.None) s.Types |= JsonTypes.Null;
            // Qdrant writes Option<T> as anyOf: [{$ref: T}, {nullable: true}]. Read literally, OpenAPI 3.0
            // gives the bare {nullable: true} no effect (it accepts anything) and the anyOf could never
            // fail; the evident intent is "or null", so a schema that is only 'nullable' accepts only null.
            else if (!assertions) s.Types = JsonTypes.Null;
        }
        return s;
    }

    private JsonSchema[] CompileArray(JsonElement array, string location)
    {
        var result = new JsonSchema[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            result[i] = Compile(item, location + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            i++;
        }
        return result;
    }

    private static void SetEnum(JsonSchema s, JsonElement values, string keyword)
    {
        s.Enum = values.EnumerateArray().Select(x => x.Clone()).ToArray();
        s.StringEnum = s.Enum.All(x => x.ValueKind == JsonValueKind.String) ? s.Enum.Select(x => x.GetString()!).ToArray() : null;
        s.EnumKeyword = keyword;
    }

    private static NumberBound Bound(JsonElement v, bool exclusive, string keyword)
    {
        decimal? m = v.TryGetDecimal(out var d) ? d : null;
        return new NumberBound(v.GetDouble(), m, exclusive, keyword, v.GetRawText());
    }

    private static JsonTypes ParseTypes(JsonElement v, string location)
    {
        if (v.ValueKind == JsonValueKind.String) return ParseType(v.GetString()!, location);
        if (v.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{location}: 'type' must be a string or an array.");
        var t = JsonTypes.None;
        foreach (var x in v.EnumerateArray()) t |= ParseType(x.GetString()!, location);
        return t;
    }

    private static JsonTypes ParseType(string name, string location) => name switch
    {
        "null" => JsonTypes.Null,
        "boolean" => JsonTypes.Boolean,
        "object" => JsonTypes.Object,
        "array" => JsonTypes.Array,
        "number" => JsonTypes.Number,
        "integer" => JsonTypes.Integer,
        "string" => JsonTypes.String,
        _ => throw new InvalidDataException($"{location}: unknown type '{name}'."),
    };

    private static void SetFormat(JsonSchema s, string format)
    {
        s.Format = format;
        s.NumberFormat = format switch
        {
            "int32" => NumberFormat.Int32,
            "int64" => NumberFormat.Int64,
            "uint8" => NumberFormat.UInt8,
            "uint16" => NumberFormat.UInt16,
            "uint32" => NumberFormat.UInt32,
            // Qdrant's "uint" is Rust's usize: 64 bits on every platform Qdrant ships for.
            "uint64" or "uint" => NumberFormat.UInt64,
            "float" => NumberFormat.Float,
            "double" => NumberFormat.Double,
            _ => NumberFormat.None,
        };
        s.StringFormat = format == "uuid" ? StringFormat.Uuid : StringFormat.None;
    }
}

/// <summary>JSON pointers inside one document (RFC 6901, with the URI-fragment form <c>#/a/b</c>).</summary>
internal static class JsonPointer
{
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    public static string Unescape(string token) =>
        Uri.UnescapeDataString(token).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    public static JsonElement Resolve(JsonElement root, string pointer)
    {
        var p = pointer.StartsWith('#') ? pointer[1..] : pointer;
        var current = root;
        if (p.Length == 0) return current;
        if (p[0] != '/') throw new InvalidDataException($"'{pointer}' is not a JSON pointer.");
        foreach (var raw in p[1..].Split('/'))
        {
            var token = Unescape(raw);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, out var i) && i >= 0 && i < current.GetArrayLength())
            {
                current = current[i];
            }
            else
            {
                throw new InvalidDataException($"'{pointer}' does not resolve: no '{token}'.");
            }
        }
        return current;
    }
}
