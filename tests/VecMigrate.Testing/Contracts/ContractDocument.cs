using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace VecMigrate.Testing.Contracts;

/// <summary>
/// A vendor's OpenAPI document. Microsoft.OpenApi reads it (paths, operations, parameters, bodies, responses,
/// security) and writes it out as OpenAPI 3.1, whose schemas are JSON Schema 2020-12 (3.0's <c>nullable</c>
/// becomes a type array); JsonSchema.Net validates values against that copy (<see cref="Root"/>). The copy keeps
/// the document's layout, so a schema location such as <c>#/components/schemas/ExtendedPointId/anyOf/1/format</c>
/// names the same place in the vendor's file. Loaded once and shared: every member is thread-safe.
/// </summary>
public sealed class ContractDocument
{
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);
    private readonly Lock _buildGate = new();
    private readonly BuildOptions _buildOptions;
    private readonly List<PathTemplate> _paths = [];

    private ContractDocument(string name, string version, OpenApiDocument model, JsonElement root)
    {
        Name = name;
        Version = version;
        Model = model;
        Root = root;
        BaseUri = new Uri("https://vendor-contracts.invalid/" + Uri.EscapeDataString(name));
        _buildOptions = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012 };
        _buildOptions.SchemaRegistry.Register(BaseUri, new JsonElementBaseDocument(root, BaseUri));
        BasePaths = (model.Servers ?? []).Select(BasePath).Where(p => p.Length > 0).Distinct().ToArray();
        var operations = new List<ContractOperation>();
        foreach (var (template, item) in model.Paths)
        {
            var path = new PathTemplate(template);
            var itemAt = "#/paths/" + Escape(template);
            var shared = Parameters(item.Parameters, itemAt + "/parameters");
            foreach (var (method, op) in item.Operations ?? [])
            {
                var opAt = itemAt + "/" + method.Method.ToLowerInvariant();
                var own = Parameters(op.Parameters, opAt + "/parameters");
                var operation = new ContractOperation(this, method.Method.ToUpperInvariant(), template, op,
                    [.. own, .. shared.Where(s => !own.Any(o => o.Name == s.Name && o.In == s.In))],
                    op.RequestBody is { } rb ? Body("request", rb.Required, rb.Content, At(rb, opAt + "/requestBody")) : null,
                    (op.Responses ?? []).ToDictionary(r => r.Key, r => Body(r.Key, false, r.Value.Content, At(r.Value, opAt + "/responses/" + Escape(r.Key))), StringComparer.OrdinalIgnoreCase),
                    Credentials(op.Security ?? model.Security));
                path.Operations[operation.Method] = operation;
                operations.Add(operation);
            }
            _paths.Add(path);
        }
        Operations = operations;
    }

    /// <summary>The file name (or the name given to <see cref="Parse"/>), for messages.</summary>
    public string Name { get; }

    /// <summary>The document's <c>openapi</c> field as written, e.g. <c>3.0.1</c>.</summary>
    public string Version { get; }

    /// <summary>The document as Microsoft.OpenApi read it.</summary>
    public OpenApiDocument Model { get; }

    /// <summary>The document as Microsoft.OpenApi writes it in OpenAPI 3.1, with the vendors' readings applied
    /// (see <see cref="ApplyReadings"/>): what schemas are built from.</summary>
    public JsonElement Root { get; }

    /// <summary>The URI the 3.1 copy is registered under with JsonSchema.Net.</summary>
    public Uri BaseUri { get; }

    /// <summary>The path parts of the <c>servers</c> URLs (variables at their defaults), other than "/":
    /// a request path starting with one of them is matched with it removed.</summary>
    public IReadOnlyList<string> BasePaths { get; }

    public IReadOnlyList<ContractOperation> Operations { get; }

    public static ContractDocument Load(string path) => Parse(File.ReadAllBytes(path), Path.GetFileName(path));

    public static ContractDocument Parse(string json, string name = "document") => Parse(Encoding.UTF8.GetBytes(json), name);

    private static ContractDocument Parse(byte[] json, string name)
    {
        string version;
        using (var raw = JsonDocument.Parse(json))
        {
            version = raw.RootElement.TryGetProperty("openapi", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        }
        var (model, diagnostic) = OpenApiDocument.Load(new MemoryStream(json), "json", new OpenApiReaderSettings());
        if (model is null || diagnostic is null || diagnostic.Errors.Count > 0)
        {
            throw new InvalidDataException($"{name} is not a readable OpenAPI document: {string.Join("; ", diagnostic?.Errors ?? [])}");
        }
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        model.SerializeAsV31(new OpenApiJsonWriter(text));
        var copy = JsonNode.Parse(text.ToString())!;
        ApplyReadings(copy);
        return new ContractDocument(name, version, model, JsonSerializer.SerializeToElement(copy));
    }

    /// <summary>The schema at a location of the 3.1 copy, e.g. <c>#/components/schemas/ScrollRequest</c>; built once.</summary>
    public JsonSchema Schema(string location)
    {
        if (_schemas.TryGetValue(location, out var known)) return known;
        lock (_buildGate)
        {
            if (_schemas.TryGetValue(location, out known)) return known;
            var fragment = string.Join("/", location.TrimStart('#').Split('/').Select(Uri.EscapeDataString));
            var schema = JsonSchema.FromText(JsonSerializer.Serialize(new Dictionary<string, string> { ["$ref"] = $"{BaseUri}#{fragment}" }), _buildOptions);
            _schemas[location] = schema;
            return schema;
        }
    }

    /// <summary>The ways <paramref name="value"/> breaks the schema at <paramref name="location"/>; empty when it fits.</summary>
    /// <param name="rootLabel">How the value itself is named in instance paths (<c>$</c>, <c>?ids</c>).</param>
    public IReadOnlyList<SchemaFinding> Validate(string location, JsonElement value, string rootLabel = "$") =>
        SchemaFindings.Of(this, Schema(location), value, rootLabel);

    /// <summary>The operation that serves <paramref name="method"/> on the concrete <paramref name="path"/>
    /// (no query string; percent-encoded or not), or null. Literal segments win over templated ones.</summary>
    public OperationMatch? FindOperation(string method, string path)
    {
        var m = method.ToUpperInvariant();
        OperationMatch? best = null;
        var bestScore = -1;
        foreach (var segments in CandidatePaths(path))
        {
            foreach (var t in _paths)
            {
                if (t.LiteralCount <= bestScore || !t.Operations.TryGetValue(m, out var op) || t.Match(segments) is not { } values) continue;
                best = new OperationMatch(op, values);
                bestScore = t.LiteralCount;
            }
        }
        return best;
    }

    /// <summary>The methods the document has for a concrete path (empty when the path is unknown).</summary>
    public IReadOnlyList<string> MethodsAt(string path) =>
        CandidatePaths(path).SelectMany(s => _paths.Where(t => t.Match(s) != null).SelectMany(t => t.Operations.Keys))
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    public override string ToString() => $"{Name} (OpenAPI {Version})";

    /// <summary>The JSON at a location of the 3.1 copy (<c>#/components/schemas/X/anyOf/1</c>), or null; with
    /// <paramref name="followRefs"/>, the schema that a chain of <c>$ref</c>s there leads to.</summary>
    public JsonElement? Find(string location, bool followRefs = false)
    {
        for (var hops = 0; hops < 16; hops++)
        {
            JsonElement? current = Root;
            foreach (var raw in location.TrimStart('#').Split('/').Skip(1))
            {
                var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                current = current switch
                {
                    { ValueKind: JsonValueKind.Object } o when o.TryGetProperty(token, out var p) => p,
                    { ValueKind: JsonValueKind.Array } a when int.TryParse(token, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.GetArrayLength() => a[i],
                    _ => null,
                };
                if (current is null) return null;
            }
            if (!followRefs || current is not { ValueKind: JsonValueKind.Object } s || !s.TryGetProperty("$ref", out var r) || r.GetString() is not { } next) return current;
            location = next;
        }
        return null;
    }

    internal static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private IEnumerable<string[]> CandidatePaths(string path)
    {
        if (path.Length == 0) path = "/";
        yield return path[1..].Split('/');
        foreach (var b in BasePaths)
        {
            if (path.StartsWith(b + "/", StringComparison.Ordinal)) yield return path[(b.Length + 1)..].Split('/');
        }
    }

    private static string BasePath(OpenApiServer server)
    {
        var url = server.Url ?? "";
        foreach (var (name, variable) in server.Variables ?? new Dictionary<string, OpenApiServerVariable>())
        {
            url = url.Replace("{" + name + "}", variable.Default, StringComparison.Ordinal);
        }
        var path = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.AbsolutePath : url;
        return path.Trim('/') is { Length: > 0 } trimmed ? "/" + trimmed : "";
    }

    private static ContractParameter[] Parameters(IList<IOpenApiParameter>? parameters, string at) =>
        (parameters ?? []).Select((p, i) => new ContractParameter(
            p.Name!,
            p.In ?? ParameterLocation.Query,
            p.Required || p.In == ParameterLocation.Path,
            p.Style ?? (p.In is ParameterLocation.Query or ParameterLocation.Cookie ? ParameterStyle.Form : ParameterStyle.Simple),
            p.Explode,
            p.Schema is null ? null : At(p, at + "/" + i.ToString(CultureInfo.InvariantCulture)) + "/schema",
            p.Schema?.Type,
            p.Schema?.Items?.Type)).ToArray();

    private static ContractBody Body(string key, bool required, IDictionary<string, IOpenApiMediaType>? content, string at)
    {
        var mediaTypes = content?.Keys.ToArray() ?? [];
        var json = content?.FirstOrDefault(c => ContractCheck.IsJsonMediaType(c.Key) && c.Value.Schema != null).Key;
        return new ContractBody(key, required, mediaTypes, json is null ? null : at + "/content/" + Escape(json) + "/schema");
    }

    /// <summary>Where an element is in the document: the component it refers to, or where it stands.</summary>
    private static string At(IOpenApiElement element, string positional) => element switch
    {
        OpenApiParameterReference r => r.Reference.ReferenceV3 ?? positional,
        OpenApiRequestBodyReference r => r.Reference.ReferenceV3 ?? positional,
        OpenApiResponseReference r => r.Reference.ReferenceV3 ?? positional,
        _ => positional,
    };

    private static IReadOnlyList<IReadOnlyList<ContractCredential>> Credentials(IList<OpenApiSecurityRequirement>? requirements) =>
        (requirements ?? []).Select(r => (IReadOnlyList<ContractCredential>)r.Keys.Select(s => s.Type switch
        {
            SecuritySchemeType.ApiKey => new ContractCredential(s.In ?? ParameterLocation.Header, s.Name!, null),
            SecuritySchemeType.Http => new ContractCredential(ParameterLocation.Header, "Authorization", s.Scheme ?? "bearer"),
            _ => null, // oauth2, openIdConnect and mutualTLS are not checked: neither vendor uses them
        }).OfType<ContractCredential>().ToArray()).ToArray();

    /// <summary>
    /// What the vendors mean where their documents say it in a way JSON Schema would not enforce, applied to the
    /// 3.1 copy before any schema is built:
    /// <list type="bullet">
    /// <item>an empty <c>anyOf</c>/<c>oneOf</c> branch accepts only null: it is what 3.0's bare <c>{nullable: true}</c>
    /// (Qdrant's <c>Option&lt;T&gt;</c>: <c>anyOf: [{$ref: T}, {nullable: true}]</c>) is written as, and read literally
    /// it would make the whole anyOf accept anything;</item>
    /// <item><c>minLength</c>/<c>maxLength</c> on an array schema count items (Pinecone's vectors per upsert and values
    /// per vector): they become <c>minItems</c>/<c>maxItems</c>;</item>
    /// <item><c>x-enum</c> where there is no <c>enum</c> becomes <c>enum</c>: Pinecone lists metrics, states and error
    /// codes so that its generated clients keep working when it adds values, but a stand-in that answers a value
    /// outside the list has still drifted;</item>
    /// <item>a discriminator's mapping pins the tag property of each branch it maps to its value (<c>const</c>), so
    /// that <c>"mode": "Dedicated"</c> cannot pass as Pinecone's OnDemand shape, whose <c>mode</c> is any string.</item>
    /// </list>
    /// </summary>
    private static void ApplyReadings(JsonNode? node)
    {
        if (node is JsonArray array)
        {
            foreach (var item in array) ApplyReadings(item);
            return;
        }
        if (node is not JsonObject o) return;
        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (o[keyword] is not JsonArray branches) continue;
            for (var i = 0; i < branches.Count; i++)
            {
                if (branches[i] is JsonObject { Count: 0 }) branches[i] = new JsonObject { ["type"] = "null" };
            }
        }
        var type = o["type"];
        if (type is JsonValue t && (string?)t == "array" || type is JsonArray types && types.Any(x => (string?)x == "array"))
        {
            Rename(o, "minLength", "minItems");
            Rename(o, "maxLength", "maxItems");
        }
        if (!o.ContainsKey("enum")) Rename(o, "x-enum", "enum");
        if (o["discriminator"] is JsonObject { } discriminator && (string?)discriminator["propertyName"] is { } tag
            && discriminator["mapping"] is JsonObject mapping && (o["oneOf"] ?? o["anyOf"]) is JsonArray mapped)
        {
            foreach (var branch in mapped.OfType<JsonObject>())
            {
                var value = mapping.FirstOrDefault(m => (string?)m.Value == (string?)branch["$ref"]).Key;
                if (value != null) branch["properties"] = new JsonObject { [tag] = new JsonObject { ["const"] = value } };
            }
        }
        foreach (var (name, child) in o.ToArray())
        {
            // Values, not schemas: an example may hold anything.
            if (name is not ("example" or "examples" or "default" or "enum" or "const")) ApplyReadings(child);
        }
    }

    private static void Rename(JsonObject o, string from, string to)
    {
        if (!o.TryGetPropertyValue(from, out var value) || o.ContainsKey(to)) return;
        o.Remove(from);
        o[to] = value;
    }

    private sealed class PathTemplate(string template)
    {
        private readonly string[] _segments = template[1..].Split('/');

        public int LiteralCount { get; } = template[1..].Split('/').Count(s => !IsParameter(s));

        public Dictionary<string, ContractOperation> Operations { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string>? Match(string[] path)
        {
            if (path.Length != _segments.Length) return null;
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < path.Length; i++)
            {
                var actual = Uri.UnescapeDataString(path[i]);
                if (IsParameter(_segments[i]))
                {
                    if (actual.Length == 0) return null;
                    values[_segments[i][1..^1]] = actual;
                }
                else if (!string.Equals(_segments[i], actual, StringComparison.Ordinal))
                {
                    return null;
                }
            }
            return values;
        }

        // Whole segments only ("/points/{id}"): neither vendor templates part of a segment.
        private static bool IsParameter(string segment) => segment.Length > 2 && segment[0] == '{' && segment[^1] == '}';
    }
}

/// <summary>An operation found for a concrete path, with the values of its path parameters.</summary>
public sealed record OperationMatch(ContractOperation Operation, IReadOnlyDictionary<string, string> PathValues);

/// <summary>A parameter as the document declares it (path-level ones merged in), with where its schema is.</summary>
public sealed record ContractParameter(string Name, ParameterLocation In, bool Required, ParameterStyle Style, bool Explode,
    string? SchemaLocation, JsonSchemaType? Type, JsonSchemaType? ItemType);

/// <summary>A request body (<see cref="Key"/> "request") or one documented response (key "200", "4XX" or
/// "default"): its media types and, when one of them is JSON, where that one's schema is.</summary>
public sealed record ContractBody(string Key, bool Required, IReadOnlyList<string> MediaTypes, string? JsonSchemaLocation);

internal sealed record ContractCredential(ParameterLocation In, string Name, string? HttpScheme);

/// <summary>One method on one path template of a <see cref="ContractDocument"/>.</summary>
public sealed class ContractOperation
{
    internal ContractOperation(ContractDocument document, string method, string pathTemplate, OpenApiOperation model,
        IReadOnlyList<ContractParameter> parameters, ContractBody? requestBody, IReadOnlyDictionary<string, ContractBody> responses,
        IReadOnlyList<IReadOnlyList<ContractCredential>> security)
    {
        Document = document;
        Method = method;
        PathTemplate = pathTemplate;
        Model = model;
        Parameters = parameters;
        RequestBody = requestBody;
        Responses = responses;
        Security = security;
    }

    public ContractDocument Document { get; }

    /// <summary>Upper case: GET, POST, …</summary>
    public string Method { get; }

    public string PathTemplate { get; }

    /// <summary>The operation as Microsoft.OpenApi read it.</summary>
    public OpenApiOperation Model { get; }

    public string? OperationId => Model.OperationId;

    public IReadOnlyList<ContractParameter> Parameters { get; }

    public ContractBody? RequestBody { get; }

    /// <summary>By status key ("200", "4XX", "default"), case-insensitive.</summary>
    public IReadOnlyDictionary<string, ContractBody> Responses { get; }

    /// <summary>The credentials a request may carry: any one entry, with all its parts, suffices.</summary>
    internal IReadOnlyList<IReadOnlyList<ContractCredential>> Security { get; }

    /// <summary>The response documented for a status: the exact code, else its range ("4XX"), else "default".</summary>
    public ContractBody? ResponseFor(int status)
    {
        var code = status.ToString(CultureInfo.InvariantCulture);
        if (Responses.TryGetValue(code, out var exact)) return exact;
        if (Responses.TryGetValue(code[0] + "XX", out var range)) return range;
        return Responses.TryGetValue("default", out var fallback) ? fallback : null;
    }

    public override string ToString() => $"{Method} {PathTemplate}";
}
