using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.OpenApi;

namespace VecMigrate.Testing.Contracts;

public enum ContractDirection { Request, Response }

/// <summary>One way an HTTP exchange departs from the vendor's document.</summary>
/// <param name="Method">The request's method.</param>
/// <param name="Path">The concrete request path (no query string).</param>
/// <param name="Direction">Whether the request (the client's fault) or the response (the server's) broke the contract.</param>
/// <param name="Message">What is wrong, with a JSON path and the schema location where one applies.</param>
public sealed record ContractViolation(string Method, string Path, ContractDirection Direction, string Message)
{
    /// <summary>The response status, for response violations.</summary>
    public int? Status { get; init; }

    /// <summary>The offending value's path (<c>$.result.points[3].id</c>, <c>?limit</c>), when there is one.</summary>
    public string? InstancePath { get; init; }

    /// <summary>The schema keyword that was broken, when there is one.</summary>
    public string? SchemaLocation { get; init; }

    public override string ToString() =>
        $"{Method} {Path} {(Direction == ContractDirection.Request ? "request" : $"response {Status}")}: {Message}";
}

/// <summary>
/// A response body that is not JSON, for one status, that the real service sends although its document
/// gives a JSON body for that status. An exception for a known fact of the service, not a loosening:
/// only that exact status with that media type passes, and only when the body is not JSON (a JSON body
/// is still checked against the schema).
/// </summary>
/// <param name="Status">The exact response status, e.g. 401.</param>
/// <param name="MediaType">The media type without parameters, e.g. <c>text/plain</c>; null for an answer
/// without a <c>Content-Type</c> header.</param>
/// <param name="Reason">What the real service does and where that was seen, for whoever reads the check.</param>
public sealed record ContractBodyAllowance(int Status, string? MediaType, string Reason)
{
    internal bool Covers(int status, string? contentType) =>
        status == Status && (MediaType is null ? contentType is null : contentType != null && ContractCheck.MediaTypeMatches(MediaType, contentType));
}

/// <summary>
/// One schema keyword of one operation's answers that the real service is known to break, so that a finding
/// there is not reported. As narrow as a finding can be named: the operation (method and path template, as
/// the document spells it), the direction, and the exact schema location of the keyword.
/// </summary>
/// <param name="Method">The operation's method, e.g. <c>GET</c>.</param>
/// <param name="PathTemplate">The operation's path as in the document, e.g. <c>/vectors/fetch</c>.</param>
/// <param name="Direction">Whose side: the request or the response.</param>
/// <param name="SchemaLocation">The broken keyword as the check reports it, e.g.
/// <c>#/components/schemas/Vector/properties/values/minItems</c>.</param>
/// <param name="Reason">What the real service does and where that was seen.</param>
public sealed record ContractValueAllowance(string Method, string PathTemplate, ContractDirection Direction, string SchemaLocation, string Reason)
{
    internal bool Covers(ContractOperation operation, ContractViolation v) =>
        v.Direction == Direction && v.SchemaLocation == SchemaLocation
        && string.Equals(operation.Method, Method, StringComparison.OrdinalIgnoreCase)
        && string.Equals(operation.PathTemplate, PathTemplate, StringComparison.Ordinal);
}

/// <summary>One HTTP exchange to check: the request, and optionally the response.</summary>
/// <param name="Method">GET, POST, …</param>
/// <param name="Path">The request path without query, e.g. <c>/collections/docs/points/scroll</c>.</param>
public sealed record ContractExchange(string Method, string Path)
{
    /// <summary>The raw query string, with or without the leading '?'.</summary>
    public string? Query { get; init; }

    /// <summary>Request headers; when null, header parameters and credentials are not checked.</summary>
    public IReadOnlyDictionary<string, string>? RequestHeaders { get; init; }

    public string? RequestContentType { get; init; }

    public ReadOnlyMemory<byte> RequestBody { get; init; }

    /// <summary>The response status; when null only the request is checked.</summary>
    public int? Status { get; init; }

    public string? ResponseContentType { get; init; }

    public ReadOnlyMemory<byte> ResponseBody { get; init; }
}

/// <summary>
/// Checks HTTP exchanges against one vendor's OpenAPI documents: that the operation exists, that
/// its path, query and header parameters and request body are what the document allows, and that
/// the response status is documented and its body fits the schema for that status. Thread-safe.
/// </summary>
public sealed class ContractCheck
{
    private static readonly Regex JsonNumber = new(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 256 };

    /// <param name="documents">The documents of one service; an operation is looked up in each in turn
    /// (Pinecone's control and data planes are two documents with distinct paths).</param>
    public ContractCheck(params ContractDocument[] documents)
    {
        if (documents.Length == 0) throw new ArgumentException("At least one document is needed.", nameof(documents));
        Documents = documents;
    }

    public IReadOnlyList<ContractDocument> Documents { get; }

    /// <summary>
    /// Top-level properties that a 2xx JSON response must carry whenever its schema declares them,
    /// although the document does not mark them required: a supplement for facts the vendor's
    /// server guarantees but its document leaves out (Qdrant always sends <c>result</c> and <c>status</c>).
    /// </summary>
    public IReadOnlyList<string> RequiredOnSuccess { get; init; } = [];

    /// <summary>Non-JSON bodies the real service sends where its document gives JSON (none by default).</summary>
    public IReadOnlyList<ContractBodyAllowance> BodyAllowances { get; init; } = [];

    /// <summary>Schema keywords the real service is known to break in one operation (none by default).</summary>
    public IReadOnlyList<ContractValueAllowance> ValueAllowances { get; init; } = [];

    /// <summary>Whether a request must carry one of the documented credentials (when headers are given). Default true.</summary>
    public bool CheckCredentials { get; init; } = true;

    /// <summary>Checks the request and, when <see cref="ContractExchange.Status"/> is set, the response.</summary>
    public IReadOnlyList<ContractViolation> Check(ContractExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var report = new Report(exchange);
        var method = exchange.Method.ToUpperInvariant();
        OperationMatch? match = null;
        foreach (var doc in Documents)
        {
            match = doc.FindOperation(method, exchange.Path);
            if (match != null) break;
        }
        if (match is null)
        {
            var methods = Documents.SelectMany(d => d.MethodsAt(exchange.Path)).Distinct().ToArray();
            var names = string.Join(", ", Documents.Select(d => d.Name));
            report.Request(methods.Length == 0
                ? $"{method} {exchange.Path} is not in the document ({names})"
                : $"{method} {exchange.Path} is not in the document ({names}); that path has {string.Join(", ", methods)} only");
            return report.Violations;
        }

        CheckRequest(match, exchange, report);
        if (exchange.Status is { } status) CheckResponse(match.Operation, status, exchange, report);
        if (ValueAllowances.Count > 0) report.Violations.RemoveAll(v => ValueAllowances.Any(a => a.Covers(match.Operation, v)));
        return report.Violations;
    }

    /// <summary>True for <c>application/json</c>, <c>application/problem+json</c> and the like (parameters ignored).</summary>
    public static bool IsJsonMediaType(string? mediaType)
    {
        if (string.IsNullOrEmpty(mediaType)) return false;
        var semicolon = mediaType.IndexOf(';');
        var bare = (semicolon < 0 ? mediaType : mediaType[..semicolon]).Trim();
        return bare.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || bare.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private void CheckRequest(OperationMatch match, ContractExchange exchange, Report report)
    {
        var op = match.Operation;
        foreach (var p in op.Parameters.Where(p => p.In == ParameterLocation.Path))
        {
            if (match.PathValues.TryGetValue(p.Name, out var value)) CheckParameter(op.Document, p, [value], "{" + p.Name + "}", report);
        }

        var query = QueryHelpers.ParseQuery(exchange.Query);
        foreach (var (name, values) in query)
        {
            var declared = op.Parameters.FirstOrDefault(p => p.In == ParameterLocation.Query && p.Name == name);
            if (declared is null)
            {
                report.Request($"query parameter '{name}' is not in the document for {op}", "?" + name);
                continue;
            }
            CheckParameter(op.Document, declared, values.Select(v => v ?? "").ToArray(), "?" + name, report);
        }
        foreach (var p in op.Parameters.Where(p => p.In == ParameterLocation.Query && p.Required && !query.ContainsKey(p.Name)))
        {
            report.Request($"required query parameter '{p.Name}' is missing", "?" + p.Name);
        }

        if (exchange.RequestHeaders is { } rawHeaders)
        {
            var headers = new Dictionary<string, string>(rawHeaders, StringComparer.OrdinalIgnoreCase);
            foreach (var p in op.Parameters.Where(p => p.In == ParameterLocation.Header))
            {
                if (headers.TryGetValue(p.Name, out var value)) CheckParameter(op.Document, p, [value], "header " + p.Name, report);
                else if (p.Required) report.Request($"required header '{p.Name}' is missing", "header " + p.Name);
            }
            if (CheckCredentials) CheckSecurity(op, headers, query, report);
        }

        CheckRequestBody(op, exchange, report);
    }

    private static void CheckSecurity(ContractOperation op, Dictionary<string, string> headers, Dictionary<string, StringValues> query, Report report)
    {
        var requirements = op.Security;
        if (requirements.Count == 0) return;
        foreach (var requirement in requirements)
        {
            var satisfied = requirement.All(s => s.In == ParameterLocation.Query
                ? query.ContainsKey(s.Name)
                : headers.TryGetValue(s.Name, out var v) && (s.HttpScheme is null || v.StartsWith(s.HttpScheme + " ", StringComparison.OrdinalIgnoreCase)));
            if (satisfied) return;
        }
        var options = requirements.Select(r => string.Join(" + ", r.Select(s => s.HttpScheme is null ? $"{s.In.ToString().ToLowerInvariant()} {s.Name}" : $"{s.Name}: {s.HttpScheme}")));
        report.Request($"request carries none of the documented credentials ({string.Join(" or ", options)})");
    }

    private static void CheckRequestBody(ContractOperation op, ContractExchange exchange, Report report)
    {
        var body = exchange.RequestBody;
        var rb = op.RequestBody;
        if (body.Length == 0)
        {
            if (rb is { Required: true }) report.Request($"a request body is required for {op}");
            return;
        }
        if (rb is null)
        {
            report.Request($"{op} takes no request body, but one of {body.Length} bytes was sent");
            return;
        }
        var contentType = exchange.RequestContentType;
        var isJson = contentType is null || IsJsonMediaType(contentType);
        if (rb.JsonSchemaLocation is null)
        {
            if (isJson && contentType != null) report.Request($"request body is {contentType}, but {op} takes {string.Join(", ", rb.MediaTypes)}");
            return;
        }
        if (!isJson)
        {
            if (!rb.MediaTypes.Any(m => MediaTypeMatches(m, contentType!)))
            {
                report.Request($"request body is {contentType}, but {op} takes {string.Join(", ", rb.MediaTypes)}");
            }
            return;
        }
        ValidateBody(op.Document, body, rb.JsonSchemaLocation, ContractDirection.Request, "request", report, []);
    }

    private void CheckResponse(ContractOperation op, int status, ContractExchange exchange, Report report)
    {
        var response = op.ResponseFor(status);
        if (response is null)
        {
            report.Response(status, $"status {status} is not documented for {op} (documented: {string.Join(", ", op.Responses.Keys)})");
            return;
        }
        if (response.JsonSchemaLocation is null) return;
        var contentType = exchange.ResponseContentType;
        if (contentType != null && !IsJsonMediaType(contentType))
        {
            if (!response.MediaTypes.Any(m => MediaTypeMatches(m, contentType))
                && !BodyAllowances.Any(a => a.Covers(status, contentType)))
            {
                report.Response(status, $"response body is {contentType}, but the document gives {string.Join(", ", response.MediaTypes)} for {response.Key}");
            }
            return;
        }
        if (exchange.ResponseBody.Length == 0)
        {
            report.Response(status, $"response body is empty, but the document gives a JSON body for {response.Key}");
            return;
        }
        if (contentType is null && BodyAllowances.Any(a => a.Covers(status, null)) && !IsJson(exchange.ResponseBody))
        {
            return; // a documented exception (see BodyAllowances): a plain body without a Content-Type
        }
        var supplement = status is >= 200 and < 300 ? RequiredOnSuccess : [];
        ValidateBody(op.Document, exchange.ResponseBody, response.JsonSchemaLocation, ContractDirection.Response, "response", report, supplement, status);
    }

    private static void ValidateBody(ContractDocument document, ReadOnlyMemory<byte> body, string schemaLocation, ContractDirection direction, string what,
        Report report, IReadOnlyList<string> supplement, int? status = null)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, ParseOptions);
        }
        catch (JsonException ex)
        {
            report.Add(direction, status, $"{what} body is not valid JSON: {ex.Message}");
            return;
        }
        using (doc)
        {
            foreach (var finding in document.Validate(schemaLocation, doc.RootElement))
            {
                report.Add(direction, status, finding.ToString(), finding.InstancePath, finding.SchemaLocation);
            }
            if (supplement.Count == 0 || doc.RootElement.ValueKind != JsonValueKind.Object
                || document.Find(schemaLocation, followRefs: true) is not { } schema || !schema.TryGetProperty("properties", out var declared)) return;
            foreach (var name in supplement)
            {
                if (declared.TryGetProperty(name, out _) && !doc.RootElement.TryGetProperty(name, out _))
                {
                    report.Add(direction, status,
                        $"$: required property '{name}' is missing (the document does not mark it required; the real service always sends it)",
                        "$", schemaLocation);
                }
            }
        }
    }

    /// <summary>
    /// Checks a parameter's text values against its schema. Text is read as the JSON value it would
    /// be: as a string when the schema takes that, else as a number or boolean literal when it is one.
    /// </summary>
    private static void CheckParameter(ContractDocument document, ContractParameter p, string[] values, string label, Report report)
    {
        if (p.SchemaLocation is null) return;
        if (p.Type?.HasFlag(JsonSchemaType.Array) != true)
        {
            if (values.Length > 1)
            {
                report.Request($"{label} is given {values.Length} times, but it is not an array", label);
                return;
            }
            var findings = Check(values[0], asString: true);
            if (findings.Count > 0 && IsLiteral(values[0])) findings = Check(values[0], asString: false);
            foreach (var f in findings) report.Request(f.ToString(), f.InstancePath, f.SchemaLocation);
            return;
        }

        var items = p.Explode || values.Length > 1 ? values : values[0].Split(p.Style switch
        {
            ParameterStyle.SpaceDelimited => ' ',
            ParameterStyle.PipeDelimited => '|',
            _ => ',',
        });
        var literals = p.ItemType is { } itemType && !itemType.HasFlag(JsonSchemaType.String);
        var json = "[" + string.Join(",", items.Select(i => literals && IsLiteral(i) ? i : JsonSerializer.Serialize(i))) + "]";
        using var array = JsonDocument.Parse(json);
        foreach (var f in document.Validate(p.SchemaLocation, array.RootElement, label)) report.Request(f.ToString(), f.InstancePath, f.SchemaLocation);

        IReadOnlyList<SchemaFinding> Check(string text, bool asString)
        {
            using var value = JsonDocument.Parse(asString ? JsonSerializer.Serialize(text) : text);
            return document.Validate(p.SchemaLocation, value.RootElement, label);
        }
    }

    private static bool IsJson(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body, ParseOptions);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsLiteral(string text) => text is "true" or "false" || JsonNumber.IsMatch(text);

    internal static bool MediaTypeMatches(string documented, string actual)
    {
        static string Bare(string m) => (m.IndexOf(';') is var i and >= 0 ? m[..i] : m).Trim();
        var d = Bare(documented);
        var a = Bare(actual);
        if (d == "*/*" || d.Equals(a, StringComparison.OrdinalIgnoreCase)) return true;
        return d.EndsWith("/*", StringComparison.Ordinal) && a.StartsWith(d[..^1], StringComparison.OrdinalIgnoreCase);
    }

    private sealed class Report(ContractExchange exchange)
    {
        public List<ContractViolation> Violations { get; } = [];

        public void Request(string message, string? instancePath = null, string? schemaLocation = null) =>
            Add(ContractDirection.Request, null, message, instancePath, schemaLocation);

        public void Response(int status, string message) => Add(ContractDirection.Response, status, message);

        public void Add(ContractDirection direction, int? status, string message, string? instancePath = null, string? schemaLocation = null) =>
            Violations.Add(new ContractViolation(exchange.Method.ToUpperInvariant(), exchange.Path, direction, message)
            {
                Status = status,
                InstancePath = instancePath,
                SchemaLocation = schemaLocation,
            });
    }
}
