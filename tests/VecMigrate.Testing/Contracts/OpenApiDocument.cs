using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VecMigrate.Testing.Contracts;

/// <summary>How to read a vendor document where it says something JSON Schema would not enforce.</summary>
public sealed record OpenApiReadOptions
{
    /// <summary>
    /// Reads <c>minLength</c>/<c>maxLength</c> on an array schema as an item count (JSON Schema ignores
    /// them there). Pinecone states its upsert and vector-size limits this way. Default true.
    /// </summary>
    public bool ArrayLengthAsItemCount { get; init; } = true;

    /// <summary>
    /// Enforces <c>x-enum</c> (where there is no <c>enum</c>) as an enum. Pinecone lists its metrics,
    /// states and error codes this way so that its generated clients keep working when it adds values;
    /// a stand-in that answers with a value outside the list has still drifted. Default true.
    /// </summary>
    public bool VendorEnumsAsEnums { get; init; } = true;
}

/// <summary>
/// An OpenAPI 3.0 or 3.1 document in JSON: its operations, found by method and concrete path
/// (<c>POST /collections/docs/points/scroll</c> finds <c>/collections/{collection_name}/points/scroll</c>),
/// with their parameters, request body and response schemas compiled for <see cref="JsonSchemaValidator"/>.
/// Loaded once and shared: every member is safe to call from several threads.
/// </summary>
public sealed class OpenApiDocument
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    private readonly JsonDocument _json;
    private readonly SchemaCompiler _compiler;
    private readonly object _compileGate = new();
    private readonly List<PathTemplate> _paths = [];

    private OpenApiDocument(JsonDocument json, string name, OpenApiReadOptions options)
    {
        _json = json;
        Name = name;
        var root = json.RootElement;
        if (!root.TryGetProperty("openapi", out var version) || version.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"{name} is not an OpenAPI 3 document (no 'openapi' version).");
        }
        Version = version.GetString()!;
        if (!Version.StartsWith("3.", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: OpenAPI {Version} is not supported (3.0 and 3.1 are).");
        }
        _compiler = new SchemaCompiler(root, IsOpenApi31, options);
        BasePaths = ReadBasePaths(root);
        Operations = ReadOperations(root);
        Security = root.TryGetProperty("security", out var sec) ? ReadSecurity(root, sec) : [];
        if (root.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var schemas))
        {
            // Compile every named schema now: load-time errors beat surprises in the middle of a test.
            foreach (var s in schemas.EnumerateObject()) _compiler.CompileReference("#/components/schemas/" + JsonPointer.Escape(s.Name));
        }
    }

    /// <summary>The file name (or the name given to <see cref="Parse"/>), for messages.</summary>
    public string Name { get; }

    /// <summary>The document's <c>openapi</c> field, e.g. <c>3.0.1</c>.</summary>
    public string Version { get; }

    public bool IsOpenApi31 => Version.StartsWith("3.1", StringComparison.Ordinal);

    /// <summary>The path parts of the <c>servers</c> URLs (variables at their defaults), other than "/":
    /// a request path starting with one of them is matched with it removed.</summary>
    public IReadOnlyList<string> BasePaths { get; }

    public IReadOnlyList<OpenApiOperation> Operations { get; }

    /// <summary>The document-wide security requirements: any one entry (all its schemes) suffices.</summary>
    internal IReadOnlyList<IReadOnlyList<SecurityScheme>> Security { get; }

    public JsonElement Root => _json.RootElement;

    public static OpenApiDocument Load(string path, OpenApiReadOptions? options = null)
    {
        var bytes = File.ReadAllBytes(path);
        return new OpenApiDocument(JsonDocument.Parse(bytes), Path.GetFileName(path), options ?? new OpenApiReadOptions());
    }

    public static OpenApiDocument Parse(string json, string name = "document", OpenApiReadOptions? options = null) =>
        new(JsonDocument.Parse(json), name, options ?? new OpenApiReadOptions());

    /// <summary>The schema at a location: <c>#/components/schemas/ScrollRequest</c>, or just <c>ScrollRequest</c>.</summary>
    public JsonSchema GetSchema(string reference)
    {
        if (!reference.StartsWith('#')) reference = "#/components/schemas/" + JsonPointer.Escape(reference);
        lock (_compileGate) return _compiler.CompileReference(reference);
    }

    /// <summary>The operation that serves <paramref name="method"/> on the concrete <paramref name="path"/>
    /// (no query string; percent-encoded or not), or null. Literal segments win over templated ones.</summary>
    public OperationMatch? FindOperation(string method, string path)
    {
        var m = method.ToLowerInvariant();
        OperationMatch? best = null;
        var bestScore = -1;
        foreach (var candidatePath in CandidatePaths(path))
        {
            var segments = Split(candidatePath);
            foreach (var t in _paths)
            {
                if (t.LiteralCount <= bestScore || !t.Operations.TryGetValue(m, out var op)) continue;
                var values = t.Match(segments);
                if (values is null) continue;
                best = new OperationMatch(op, values);
                bestScore = t.LiteralCount;
            }
        }
        return best;
    }

    /// <summary>The methods the document has for a concrete path (empty when the path is unknown).</summary>
    public IReadOnlyList<string> MethodsAt(string path)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var candidatePath in CandidatePaths(path))
        {
            var segments = Split(candidatePath);
            foreach (var t in _paths)
            {
                if (t.Match(segments) != null) result.UnionWith(t.Operations.Keys.Select(k => k.ToUpperInvariant()));
            }
        }
        return result.ToArray();
    }

    public override string ToString() => $"{Name} (OpenAPI {Version})";

    internal JsonSchema Compile(JsonElement element, string location)
    {
        lock (_compileGate) return _compiler.Compile(element, location);
    }

    private IEnumerable<string> CandidatePaths(string path)
    {
        if (path.Length == 0) path = "/";
        yield return path;
        foreach (var b in BasePaths)
        {
            if (path.Length > b.Length && path.StartsWith(b, StringComparison.Ordinal) && path[b.Length] == '/') yield return path[b.Length..];
            else if (path == b) yield return "/";
        }
    }

    private static string[] Split(string path)
    {
        var trimmed = path.StartsWith('/') ? path[1..] : path;
        return trimmed.Split('/');
    }

    private static string[] ReadBasePaths(JsonElement root)
    {
        if (!root.TryGetProperty("servers", out var servers) || servers.ValueKind != JsonValueKind.Array) return [];
        var result = new List<string>();
        foreach (var server in servers.EnumerateArray())
        {
            if (!server.TryGetProperty("url", out var urlElement)) continue;
            var url = urlElement.GetString() ?? "";
            if (server.TryGetProperty("variables", out var vars))
            {
                foreach (var v in vars.EnumerateObject())
                {
                    var value = v.Value.TryGetProperty("default", out var d) ? d.GetString() : "";
                    url = url.Replace("{" + v.Name + "}", value, StringComparison.Ordinal);
                }
            }
            string path;
            var scheme = url.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                var slash = url.IndexOf('/', scheme + 3);
                path = slash < 0 ? "" : url[slash..];
            }
            else
            {
                path = url;
            }
            path = path.TrimEnd('/');
            if (path.Length > 0 && !result.Contains(path)) result.Add(path.StartsWith('/') ? path : "/" + path);
        }
        return result.ToArray();
    }

    private OpenApiOperation[] ReadOperations(JsonElement root)
    {
        var operations = new List<OpenApiOperation>();
        if (!root.TryGetProperty("paths", out var paths)) return [];
        foreach (var pathItem in paths.EnumerateObject())
        {
            var template = new PathTemplate(pathItem.Name);
            var itemLocation = "#/paths/" + JsonPointer.Escape(pathItem.Name);
            var item = Deref(pathItem.Value, ref itemLocation);
            var shared = item.TryGetProperty("parameters", out var sp) ? ReadParameters(sp, itemLocation + "/parameters") : [];
            foreach (var method in Methods)
            {
                if (!item.TryGetProperty(method, out var opElement)) continue;
                var opLocation = itemLocation + "/" + method;
                var own = opElement.TryGetProperty("parameters", out var op) ? ReadParameters(op, opLocation + "/parameters") : [];
                // An operation's parameter overrides the path item's one with the same name and place.
                var parameters = own.Concat(shared.Where(s => !own.Any(o => o.Name == s.Name && o.In == s.In))).ToArray();
                var operation = new OpenApiOperation(
                    this,
                    method.ToUpperInvariant(),
                    pathItem.Name,
                    opElement.TryGetProperty("operationId", out var id) ? id.GetString() : null,
                    parameters,
                    opElement.TryGetProperty("requestBody", out var rb) ? ReadRequestBody(rb, opLocation + "/requestBody") : null,
                    opElement.TryGetProperty("responses", out var rs) ? ReadResponses(rs, opLocation + "/responses") : new Dictionary<string, OpenApiResponse>(),
                    opElement.TryGetProperty("security", out var sec) ? ReadSecurity(root, sec) : null);
                template.Operations[method] = operation;
                operations.Add(operation);
            }
            _paths.Add(template);
        }
        return operations.ToArray();
    }

    private OpenApiParameter[] ReadParameters(JsonElement array, string location)
    {
        var result = new List<OpenApiParameter>();
        var i = 0;
        foreach (var raw in array.EnumerateArray())
        {
            var at = location + "/" + i.ToString(CultureInfo.InvariantCulture);
            var p = Deref(raw, ref at);
            var name = p.GetProperty("name").GetString()!;
            var inText = p.GetProperty("in").GetString()!;
            var place = inText switch
            {
                "query" => ParameterLocation.Query,
                "path" => ParameterLocation.Path,
                "header" => ParameterLocation.Header,
                "cookie" => ParameterLocation.Cookie,
                _ => throw new InvalidDataException($"{at}: unknown parameter location '{inText}'."),
            };
            var required = place == ParameterLocation.Path || (p.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True);
            JsonSchema? schema = null;
            if (p.TryGetProperty("schema", out var s)) schema = _compiler.Compile(s, at + "/schema");
            else if (p.TryGetProperty("content", out var content)) schema = JsonSchemaOf(content, at + "/content");
            var style = p.TryGetProperty("style", out var st) ? st.GetString()! : place is ParameterLocation.Query or ParameterLocation.Cookie ? "form" : "simple";
            var explode = p.TryGetProperty("explode", out var ex) ? ex.ValueKind == JsonValueKind.True : style == "form";
            result.Add(new OpenApiParameter(name, place, required, schema, style, explode));
            i++;
        }
        return result.ToArray();
    }

    private OpenApiRequestBody ReadRequestBody(JsonElement raw, string location)
    {
        var body = Deref(raw, ref location);
        var required = body.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True;
        var mediaTypes = body.TryGetProperty("content", out var content) ? content.EnumerateObject().Select(m => m.Name).ToArray() : [];
        var schema = body.TryGetProperty("content", out content) ? JsonSchemaOf(content, location + "/content") : null;
        return new OpenApiRequestBody(required, mediaTypes, schema);
    }

    private Dictionary<string, OpenApiResponse> ReadResponses(JsonElement responses, string location)
    {
        var result = new Dictionary<string, OpenApiResponse>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in responses.EnumerateObject())
        {
            var at = location + "/" + JsonPointer.Escape(r.Name);
            var response = Deref(r.Value, ref at);
            var hasContent = response.TryGetProperty("content", out var content);
            var mediaTypes = hasContent ? content.EnumerateObject().Select(m => m.Name).ToArray() : [];
            var schema = hasContent ? JsonSchemaOf(content, at + "/content") : null;
            result[r.Name] = new OpenApiResponse(r.Name, mediaTypes, schema);
        }
        return result;
    }

    private JsonSchema? JsonSchemaOf(JsonElement content, string location)
    {
        foreach (var media in content.EnumerateObject())
        {
            if (!ContractCheck.IsJsonMediaType(media.Name)) continue;
            if (media.Value.TryGetProperty("schema", out var schema))
            {
                return _compiler.Compile(schema, location + "/" + JsonPointer.Escape(media.Name) + "/schema");
            }
        }
        return null;
    }

    private static IReadOnlyList<IReadOnlyList<SecurityScheme>> ReadSecurity(JsonElement root, JsonElement requirements)
    {
        var result = new List<IReadOnlyList<SecurityScheme>>();
        root.TryGetProperty("components", out var components);
        JsonElement schemes = default;
        var haveSchemes = components.ValueKind == JsonValueKind.Object && components.TryGetProperty("securitySchemes", out schemes);
        foreach (var requirement in requirements.EnumerateArray())
        {
            var all = new List<SecurityScheme>();
            foreach (var entry in requirement.EnumerateObject())
            {
                if (!haveSchemes || !schemes.TryGetProperty(entry.Name, out var scheme)) continue;
                var type = scheme.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (type == "apiKey")
                {
                    var where = scheme.GetProperty("in").GetString() == "query" ? ParameterLocation.Query : ParameterLocation.Header;
                    all.Add(new SecurityScheme(entry.Name, where, scheme.GetProperty("name").GetString()!, null));
                }
                else if (type == "http")
                {
                    var httpScheme = scheme.TryGetProperty("scheme", out var hs) ? hs.GetString() : "bearer";
                    all.Add(new SecurityScheme(entry.Name, ParameterLocation.Header, "Authorization", httpScheme));
                }
                // oauth2/openIdConnect/mutualTLS are not checked: neither vendor uses them.
            }
            result.Add(all);
        }
        return result;
    }

    /// <summary>Follows a <c>$ref</c> to a reusable parameter, body, response or path item.</summary>
    private JsonElement Deref(JsonElement element, ref string location)
    {
        for (var i = 0; i < 16 && element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var r); i++)
        {
            location = r.GetString()!;
            element = JsonPointer.Resolve(_json.RootElement, location);
        }
        return element;
    }

    private sealed class PathTemplate
    {
        private static readonly Regex Parameter = new(@"\{([^}/]+)\}", RegexOptions.CultureInvariant);
        private readonly Segment[] _segments;

        public PathTemplate(string template)
        {
            Template = template;
            var raw = (template.StartsWith('/') ? template[1..] : template).Split('/');
            _segments = new Segment[raw.Length];
            for (var i = 0; i < raw.Length; i++)
            {
                var s = raw[i];
                var names = Parameter.Matches(s).Select(m => m.Groups[1].Value).ToArray();
                if (names.Length == 0)
                {
                    _segments[i] = new Segment(s, null, []);
                    LiteralCount++;
                }
                else if (names.Length == 1 && s == "{" + names[0] + "}")
                {
                    _segments[i] = new Segment(null, null, names);
                }
                else
                {
                    var pattern = "^" + Parameter.Replace(Regex.Escape(s).Replace(@"\{", "{", StringComparison.Ordinal), "(.+?)") + "$";
                    _segments[i] = new Segment(null, new Regex(pattern, RegexOptions.CultureInvariant), names);
                }
            }
        }

        public string Template { get; }

        public int LiteralCount { get; }

        public Dictionary<string, OpenApiOperation> Operations { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string>? Match(string[] path)
        {
            if (path.Length != _segments.Length) return null;
            Dictionary<string, string>? values = null;
            for (var i = 0; i < path.Length; i++)
            {
                var seg = _segments[i];
                var actual = Uri.UnescapeDataString(path[i]);
                if (seg.Literal != null)
                {
                    if (!string.Equals(seg.Literal, actual, StringComparison.Ordinal)) return null;
                    continue;
                }
                values ??= new Dictionary<string, string>(StringComparer.Ordinal);
                if (seg.Pattern is null)
                {
                    if (actual.Length == 0) return null;
                    values[seg.Names[0]] = actual;
                    continue;
                }
                var m = seg.Pattern.Match(actual);
                if (!m.Success) return null;
                for (var n = 0; n < seg.Names.Length; n++) values[seg.Names[n]] = m.Groups[n + 1].Value;
            }
            return values ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }

        private sealed record Segment(string? Literal, Regex? Pattern, string[] Names);
    }
}

/// <summary>An operation found for a concrete path, with the values of its path parameters.</summary>
public sealed record OperationMatch(OpenApiOperation Operation, IReadOnlyDictionary<string, string> PathValues);

public enum ParameterLocation { Query, Path, Header, Cookie }

/// <summary>A parameter as the document declares it (path-level ones merged in).</summary>
public sealed record OpenApiParameter(string Name, ParameterLocation In, bool Required, JsonSchema? Schema, string Style, bool Explode);

/// <summary>A request body: its media types and, when one of them is JSON, that one's schema.</summary>
public sealed record OpenApiRequestBody(bool Required, IReadOnlyList<string> MediaTypes, JsonSchema? JsonSchema);

/// <summary>One documented response (key "200", "4XX" or "default").</summary>
public sealed record OpenApiResponse(string StatusKey, IReadOnlyList<string> MediaTypes, JsonSchema? JsonSchema);

internal sealed record SecurityScheme(string Name, ParameterLocation In, string ParameterName, string? HttpScheme);

/// <summary>One method on one path template of an <see cref="OpenApiDocument"/>.</summary>
public sealed class OpenApiOperation
{
    private readonly IReadOnlyList<IReadOnlyList<SecurityScheme>>? _security;

    internal OpenApiOperation(
        OpenApiDocument document,
        string method,
        string pathTemplate,
        string? operationId,
        IReadOnlyList<OpenApiParameter> parameters,
        OpenApiRequestBody? requestBody,
        IReadOnlyDictionary<string, OpenApiResponse> responses,
        IReadOnlyList<IReadOnlyList<SecurityScheme>>? security)
    {
        Document = document;
        Method = method;
        PathTemplate = pathTemplate;
        OperationId = operationId;
        Parameters = parameters;
        RequestBody = requestBody;
        Responses = responses;
        _security = security;
    }

    public OpenApiDocument Document { get; }

    /// <summary>Upper case: GET, POST, …</summary>
    public string Method { get; }

    public string PathTemplate { get; }

    public string? OperationId { get; }

    public IReadOnlyList<OpenApiParameter> Parameters { get; }

    public OpenApiRequestBody? RequestBody { get; }

    /// <summary>By status key ("200", "4XX", "default"), case-insensitive.</summary>
    public IReadOnlyDictionary<string, OpenApiResponse> Responses { get; }

    /// <summary>The schema of a JSON request body, or null when the operation takes none.</summary>
    public JsonSchema? RequestSchema => RequestBody?.JsonSchema;

    internal IReadOnlyList<IReadOnlyList<SecurityScheme>> Security => _security ?? Document.Security;

    /// <summary>The response documented for a status: the exact code, else its range ("4XX"), else "default".</summary>
    public OpenApiResponse? ResponseFor(int status)
    {
        var code = status.ToString(CultureInfo.InvariantCulture);
        if (Responses.TryGetValue(code, out var exact)) return exact;
        if (Responses.TryGetValue(code[0] + "XX", out var range)) return range;
        return Responses.TryGetValue("default", out var fallback) ? fallback : null;
    }

    /// <summary>The JSON schema of the response for a status, or null when none is documented.</summary>
    public JsonSchema? ResponseSchema(int status) => ResponseFor(status)?.JsonSchema;

    public override string ToString() => $"{Method} {PathTemplate}";
}
