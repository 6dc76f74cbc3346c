using System.Collections.Concurrent;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Testing.StandIns;

/// <summary>How a stand-in index is deployed.</summary>
public enum PineconeStandInDeployment
{
    Serverless,
    /// <summary>Pod-based: <c>list</c> does not work (see <see cref="PineconeStandInOptions.PodList"/>).</summary>
    Pod,
}

/// <summary>How a pod-based stand-in index answers <c>GET /vectors/list</c>.</summary>
public enum PineconePodListAnswer
{
    /// <summary>400 with an <c>rpcStatus</c> body saying list is for serverless indexes (fits the 2026-04 document).</summary>
    RpcError,
    /// <summary>
    /// 200 with a bare JSON string instead of a list response, as pod-based indexes were seen to answer
    /// (pinecone-io/python-sdk#331: "Required value type is ListResponse and passed type was str"). Not
    /// what the document promises, so a contract check would flag it.
    /// </summary>
    StringBody,
}

/// <summary>How the stand-in behaves where real Pinecone and its 2026-04 document leave room.</summary>
public sealed class PineconeStandInOptions
{
    /// <summary>The one api key the stand-in accepts.</summary>
    public string ApiKey { get; init; } = "pcsk_standin_4f9a1c_secret";

    /// <summary>Runs first on every host of the stand-in (contract checks, extra fault injection).</summary>
    public Action<WebApplication>? Configure { get; init; }

    /// <summary>
    /// What the stand-in calls the default namespace in <c>describe_index_stats</c> and in the <c>namespace</c>
    /// of list and fetch answers: <c>"__default__"</c> (the reserved name newer servers report) or <c>""</c> (the
    /// 2026-04 document's example). Requests address it by leaving <c>namespace</c> out, or with either name.
    /// </summary>
    public string DefaultNamespaceName { get; init; } = "__default__";

    /// <summary>
    /// Answer 401 and gateway 429s with a <c>text/plain</c> body (<c>Unauthorized</c>), as Pinecone's
    /// authentication and rate-limiting layer does (documented from API 2026-07 on). Off by default because the
    /// 2026-04 document promises an <c>rpcStatus</c> JSON body for every 4XX of the data plane.
    /// </summary>
    public bool PlainTextGatewayErrors { get; init; }

    /// <summary>
    /// Give a full last list page a <c>pagination.next</c> token whose page is empty, as cursor-paged servers
    /// that do not look ahead do; clients must then accept an empty final page. On by default.
    /// </summary>
    public bool TokenOnFullLastPage { get; init; } = true;

    /// <summary>Refuse non-ASCII ids and prefixes with 400, as API 2026-07 documents (<c>^[\x01-\x7F]+$</c>). Off by default: 2026-04 does not say so.</summary>
    public bool RequireAsciiIds { get; init; }

    /// <summary>Put the presented api key into 401 messages, to prove that clients scrub server messages.</summary>
    public bool EchoKeyInErrors { get; init; }

    public PineconePodListAnswer PodList { get; init; } = PineconePodListAnswer.RpcError;

    /// <summary>Seeds the order in which fetch answers its map (anything but request order).</summary>
    public int Seed { get; init; } = 20260401;
}

/// <summary>One request the stand-in saw.</summary>
/// <param name="Index">The index whose host it reached; null for the control plane.</param>
/// <param name="RawTarget">The request target exactly as sent (path and query, still percent-encoded).</param>
/// <param name="ContentLength">The request body's declared size in bytes; null when it had none.</param>
public sealed record PineconeStandInRequest(string? Index, string Method, string Path, string RawTarget, int Status, long? ContentLength = null);

/// <summary>A record as the stand-in stores it. Metadata is the JSON text as stored (numbers made 64-bit floats, as Pinecone does).</summary>
public sealed class PineconeStandInVector
{
    public PineconeStandInVector(string id, float[]? values, uint[]? sparseIndices, float[]? sparseValues, byte[]? metadata)
    {
        Id = id;
        Values = values;
        SparseIndices = sparseIndices;
        SparseValues = sparseValues;
        Metadata = metadata;
    }

    public string Id { get; }

    public float[]? Values { get; }

    public uint[]? SparseIndices { get; }

    public float[]? SparseValues { get; }

    /// <summary>The metadata object's UTF-8 JSON; null when the record has none.</summary>
    public byte[]? Metadata { get; }

    public string? MetadataJson => Metadata is null ? null : Encoding.UTF8.GetString(Metadata);
}

/// <summary>
/// An in-memory Pinecone (API 2026-04) for tests: a control plane (<c>GET /indexes</c>, <c>GET /indexes/{name}</c>)
/// on one Kestrel host and, for each index, a data plane (<c>describe_index_stats</c>, <c>vectors/list</c>,
/// <c>vectors/fetch</c>, <c>vectors/upsert</c>) on a host of its own, as real indexes have. Answers follow the
/// vendor document: field names, envelopes (<c>rpcStatus</c> on the data plane, <c>ErrorResponse</c> on the control
/// plane), limits (list 100 ids, fetch 1,000 ids, upsert 1,000 vectors / 2 MB / 40 KB metadata / 512-character ids).
/// Lists are in bitwise order of the ids' UTF-8 bytes with opaque base64 tokens; fetch answers its map in no
/// particular order. Faults: <see cref="FailNext"/> (429 with Retry-After, 5xx), <see cref="CutNext"/> (the connection breaks
/// part-way through an answer), <see cref="SlowNext"/> and <see cref="ResponseDelay"/>.
/// </summary>
public sealed class PineconeStandIn : IAsyncDisposable
{
    /// <summary>The API version the stand-in speaks; other values of the version header get 400.</summary>
    public const string ApiVersion = "2026-04";

    public const int MaxListLimit = 100;
    public const int MaxFetchIds = 1000;
    public const int MaxUpsertVectors = 1000;
    public const int MaxUpsertBytes = 2 * 1024 * 1024;
    public const int MaxMetadataBytes = 40 * 1024;
    public const int MaxIdLength = 512;
    public const int MaxSparseValues = 1000;

    internal static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly StandInHost _control;
    private readonly ConcurrentDictionary<string, PineconeStandInIndex> _indexes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PineconeStandInRequest> _requests = new();
    private readonly List<Fault> _faults = [];
    private readonly object _faultLock = new();

    private readonly ContractCheck? _contracts;
    private readonly ContractSampling? _sampling;

    private PineconeStandIn(PineconeStandInOptions options, StandInHost control, ContractCheck? contracts, ContractSampling? sampling)
    {
        Options = options;
        ApiKey = options.ApiKey;
        _control = control;
        _contracts = contracts;
        _sampling = sampling;
    }

    public PineconeStandInOptions Options { get; }

    /// <summary>The key the stand-in accepts now; change it to see a key refused.</summary>
    public string ApiKey { get; set; }

    /// <summary>http://127.0.0.1:PORT/ of the control plane.</summary>
    public Uri ControlPlaneUrl => _control.BaseAddress;

    /// <summary>Wait this long before answering any request.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyCollection<PineconeStandInRequest> Requests => _requests;

    /// <param name="options">How the stand-in behaves.</param>
    /// <param name="contracts">Checks every exchange of the control plane and of each index's host against
    /// Pinecone's documents (<c>VendorContracts.PineconeCheck()</c>); see <see cref="ContractViolations"/>.
    /// Null: no checks. The opt-in modes <see cref="PineconeStandInOptions.PlainTextGatewayErrors"/> and
    /// <see cref="PineconePodListAnswer.StringBody"/> break the 2026-04 document on purpose, so checks flag them.</param>
    /// <param name="sampling">Which exchanges to check, per host; all by default.</param>
    public static async Task<PineconeStandIn> StartAsync(PineconeStandInOptions? options = null, ContractCheck? contracts = null,
        ContractSampling? sampling = null)
    {
        options ??= new PineconeStandInOptions();
        PineconeStandIn? self = null;
        var control = await StandInHost.StartAsync(app =>
        {
            options.Configure?.Invoke(app);
            app.Use((ctx, next) => self!.GuardAsync(ctx, next, null));
            app.MapGet("/indexes", ctx => self!.ListIndexesAsync(ctx));
            app.MapGet("/indexes/{name}", ctx => self!.DescribeIndexAsync(ctx));
        }, contracts, sampling).ConfigureAwait(false);
        self = new PineconeStandIn(options, control, contracts, sampling);
        return self;
    }

    /// <summary>Creates an index with its own data-plane host.</summary>
    /// <param name="dimension">The dense dimension; null for a sparse index.</param>
    public async Task<PineconeStandInIndex> CreateIndexAsync(string name, int? dimension, string metric = "cosine",
        PineconeStandInDeployment deployment = PineconeStandInDeployment.Serverless)
    {
        var vectorType = dimension is null ? "sparse" : "dense";
        if (vectorType == "sparse" && metric != "dotproduct") throw new ArgumentException("Sparse indexes use the dotproduct metric.");
        PineconeStandInIndex? index = null;
        var host = await StandInHost.StartAsync(app =>
        {
            Options.Configure?.Invoke(app);
            app.Use((ctx, next) => GuardAsync(ctx, next, index));
            app.MapPost("/describe_index_stats", ctx => index!.DescribeIndexStatsAsync(ctx));
            app.MapGet("/vectors/list", ctx => index!.ListAsync(ctx));
            app.MapGet("/vectors/fetch", ctx => index!.FetchAsync(ctx));
            app.MapPost("/vectors/upsert", ctx => index!.UpsertAsync(ctx));
            app.MapPost("/query", ctx => index!.QueryAsync(ctx));
        }, _contracts, _sampling).ConfigureAwait(false);
        index = new PineconeStandInIndex(this, host, name, dimension, metric, vectorType, deployment);
        if (!_indexes.TryAdd(name, index))
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"Index '{name}' exists.");
        }
        return index;
    }

    public PineconeStandInIndex Index(string name) => _indexes[name];

    /// <summary>The control plane's contract findings, when started with a check (each index has its own).</summary>
    public ContractCheckMiddleware? Contracts => _control.Contracts;

    /// <summary>Every contract violation so far, control plane first, then the indexes by name; empty without a check.</summary>
    public IReadOnlyList<ContractViolation> ContractViolations => ContractHosts().SelectMany(c => c.Violations).ToList();

    /// <summary>Exchanges checked on all hosts so far.</summary>
    public long ContractExchangesChecked => ContractHosts().Sum(c => c.ExchangesChecked);

    /// <summary>Throws <see cref="ContractViolationException"/> listing the violations of every host, if there is any.</summary>
    public void EnsureNoContractViolations()
    {
        var found = ContractViolations;
        if (found.Count > 0) throw new ContractViolationException(found, ContractExchangesChecked);
    }

    private IEnumerable<ContractCheckMiddleware> ContractHosts() =>
        new[] { _control.Contracts }.Concat(_indexes.Values.OrderBy(i => i.Name, StringComparer.Ordinal).Select(i => i.Contracts))
            .OfType<ContractCheckMiddleware>();

    /// <summary>
    /// The next <paramref name="times"/> requests whose path starts with <paramref name="pathPrefix"/> (all when
    /// null) are answered <paramref name="status"/>, with a <c>Retry-After</c> header when given.
    /// </summary>
    public void FailNext(int times, int status = 429, TimeSpan? retryAfter = null, string? pathPrefix = null)
    {
        lock (_faultLock) _faults.Add(new Fault(pathPrefix, status, retryAfter) { Remaining = times });
    }

    /// <summary>
    /// The next <paramref name="times"/> requests whose path starts with <paramref name="pathPrefix"/> are answered in
    /// full (status, headers, Content-Length) but the connection is aborted after <paramref name="fraction"/> of the body.
    /// </summary>
    public void CutNext(int times, double fraction = 0.5, string? pathPrefix = null)
    {
        if (fraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), "Cut somewhere in the body: 0 <= fraction < 1.");
        lock (_faultLock) _faults.Add(new Fault(pathPrefix, 200, null) { Remaining = times, CutAt = fraction });
    }

    /// <summary>The next <paramref name="times"/> matching requests wait <paramref name="delay"/> before their answer.</summary>
    public void SlowNext(int times, TimeSpan delay, string? pathPrefix = null)
    {
        lock (_faultLock) _faults.Add(new Fault(pathPrefix, 200, null) { Remaining = times, Slow = delay });
    }

    /// <summary>How many injected failures are still to be served.</summary>
    public int PendingFailures
    {
        get
        {
            lock (_faultLock) return _faults.Sum(f => f.Remaining);
        }
    }

    private sealed class Fault(string? pathPrefix, int status, TimeSpan? retryAfter)
    {
        public string? PathPrefix { get; } = pathPrefix;
        public int Status { get; } = status;
        public TimeSpan? RetryAfter { get; } = retryAfter;
        public int Remaining { get; set; }
        public double? CutAt { get; init; }
        public TimeSpan Slow { get; init; }
    }

    private Fault? TakeFault(string path)
    {
        lock (_faultLock)
        {
            foreach (var f in _faults)
            {
                if (f.Remaining > 0 && (f.PathPrefix is null || path.StartsWith(f.PathPrefix, StringComparison.Ordinal)))
                {
                    f.Remaining--;
                    return f;
                }
            }
            return null;
        }
    }

    /// <summary>What runs before every route: request log, delay, api key, version header, injected faults.</summary>
    private async Task GuardAsync(HttpContext ctx, RequestDelegate next, PineconeStandInIndex? index)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (ctx.Request.Path + ctx.Request.QueryString).ToString();
        try
        {
            if (ResponseDelay > TimeSpan.Zero) await Task.Delay(ResponseDelay, ctx.RequestAborted).ConfigureAwait(false);
            var dataPlane = index is not null;
            var key = ctx.Request.Headers["Api-Key"].ToString();
            if (!string.Equals(key, ApiKey, StringComparison.Ordinal))
            {
                await WriteUnauthorizedAsync(ctx, key, dataPlane).ConfigureAwait(false);
                return;
            }
            var version = ctx.Request.Headers["X-Pinecone-Api-Version"].ToString();
            if (!string.Equals(version, ApiVersion, StringComparison.Ordinal))
            {
                var message = version.Length == 0
                    ? "Missing required header X-Pinecone-Api-Version."
                    : $"Unsupported API version '{version}'; this server speaks {ApiVersion}.";
                await (dataPlane ? WriteRpcErrorAsync(ctx, 400, 3, message) : WriteControlErrorAsync(ctx, 400, "INVALID_ARGUMENT", message)).ConfigureAwait(false);
                return;
            }
            if (TakeFault(ctx.Request.Path.Value ?? "") is { } fault)
            {
                if (fault.CutAt is { } cutAt)
                {
                    await AnswerCutAsync(ctx, next, cutAt).ConfigureAwait(false);
                    return;
                }
                if (fault.Slow <= TimeSpan.Zero)
                {
                    await WriteFaultAsync(ctx, fault, dataPlane).ConfigureAwait(false);
                    return;
                }
                await Task.Delay(fault.Slow, ctx.RequestAborted).ConfigureAwait(false);
            }
            await next(ctx).ConfigureAwait(false);
        }
        finally
        {
            _requests.Enqueue(new PineconeStandInRequest(index?.Name, ctx.Request.Method, ctx.Request.Path.Value ?? "", raw, ctx.Response.StatusCode,
                ctx.Request.ContentLength));
        }
    }

    /// <summary>Answers as usual into a buffer, then sends the head and part of the body, and aborts the connection.</summary>
    private static async Task AnswerCutAsync(HttpContext ctx, RequestDelegate next, double cutAt)
    {
        var original = ctx.Response.Body;
        using var buffer = new MemoryStream();
        ctx.Response.Body = buffer;
        try
        {
            await next(ctx).ConfigureAwait(false);
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ctx.Response.Body = original;
        }
        var body = buffer.ToArray();
        ctx.Response.ContentLength = body.Length; // the client expects all of it
        await original.WriteAsync(body.AsMemory(0, (int)(body.Length * cutAt)), ctx.RequestAborted).ConfigureAwait(false);
        await original.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        // Let the part reach the client first: an abort resets the connection and drops what is still unsent.
        await Task.Delay(50, ctx.RequestAborted).ConfigureAwait(false);
        ctx.Abort();
    }

    private async Task WriteUnauthorizedAsync(HttpContext ctx, string presented, bool dataPlane)
    {
        var echo = Options.EchoKeyInErrors && presented.Length > 0 ? $" (key '{presented}')" : "";
        if (dataPlane && Options.PlainTextGatewayErrors)
        {
            await WriteTextAsync(ctx, 401, "Unauthorized" + echo).ConfigureAwait(false);
        }
        else if (dataPlane)
        {
            await WriteRpcErrorAsync(ctx, 401, 16, "Invalid API Key" + echo).ConfigureAwait(false);
        }
        else
        {
            await WriteControlErrorAsync(ctx, 401, "UNAUTHENTICATED", "Invalid API key." + echo).ConfigureAwait(false);
        }
    }

    private async Task WriteFaultAsync(HttpContext ctx, Fault fault, bool dataPlane)
    {
        if (fault.RetryAfter is { } ra)
        {
            ctx.Response.Headers["Retry-After"] = Math.Max(0, (int)Math.Ceiling(ra.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var (grpc, code, message) = fault.Status switch
        {
            429 => (8, "RESOURCE_EXHAUSTED", "Request failed. You've reached the max requests per second allowed for this index. Retry later."),
            503 => (14, "UNAVAILABLE", "Service temporarily unavailable."),
            >= 500 => (13, "INTERNAL", "Internal server error."),
            _ => (2, "UNKNOWN", "Injected failure."),
        };
        if (dataPlane && fault.Status == 429 && Options.PlainTextGatewayErrors)
        {
            await WriteTextAsync(ctx, 429, message).ConfigureAwait(false);
        }
        else if (dataPlane)
        {
            await WriteRpcErrorAsync(ctx, fault.Status, grpc, message).ConfigureAwait(false);
        }
        else
        {
            await WriteControlErrorAsync(ctx, fault.Status, code, message).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- control plane

    private Task ListIndexesAsync(HttpContext ctx) => WriteJsonAsync(ctx, 200, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("indexes");
        foreach (var index in _indexes.Values.OrderBy(i => i.Name, StringComparer.Ordinal)) index.WriteModel(w);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private Task DescribeIndexAsync(HttpContext ctx)
    {
        var name = (string)ctx.Request.RouteValues["name"]!;
        return _indexes.TryGetValue(name, out var index)
            ? WriteJsonAsync(ctx, 200, index.WriteModel)
            : WriteControlErrorAsync(ctx, 404, "NOT_FOUND", $"Index {name} not found.");
    }

    // ---------------------------------------------------------------- writers

    internal static async Task WriteJsonAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter, WriterOptions))
        {
            write(w);
            w.Flush();
        }
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The data plane's error body: <c>rpcStatus</c> <c>{"code": grpcCode, "message", "details": []}</c>.</summary>
    internal static Task WriteRpcErrorAsync(HttpContext ctx, int status, int grpcCode, string message) => WriteJsonAsync(ctx, status, w =>
    {
        w.WriteStartObject();
        w.WriteNumber("code", grpcCode);
        w.WriteString("message", message);
        w.WriteStartArray("details");
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>The control plane's error body: <c>{"error": {"code", "message"}, "status"}</c>.</summary>
    internal static Task WriteControlErrorAsync(HttpContext ctx, int status, string code, string message) => WriteJsonAsync(ctx, status, w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteNumber("status", status);
        w.WriteEndObject();
    });

    internal static async Task WriteTextAsync(HttpContext ctx, int status, string text)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync(text, ctx.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var index in _indexes.Values) await index.Host.DisposeAsync().ConfigureAwait(false);
        await _control.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Orders strings as their UTF-8 bytes do (by code point): Pinecone's bitwise "C" collation.</summary>
    public static int CompareUtf8(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            var ha = ea.MoveNext();
            var hb = eb.MoveNext();
            if (!ha || !hb) return ha == hb ? 0 : ha ? 1 : -1;
            var c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }

    /// <summary>Comparer form of <see cref="CompareUtf8"/>.</summary>
    public static IComparer<string> Utf8Order { get; } = Comparer<string>.Create(CompareUtf8);
}

/// <summary>One index of the stand-in: its data plane, its records by namespace, and hooks for tests.</summary>
public sealed class PineconeStandInIndex
{
    private readonly PineconeStandIn _owner;
    private readonly object _sync = new();
    private readonly Dictionary<string, Space> _spaces = new(StringComparer.Ordinal);
    private readonly Random _shuffle;

    internal PineconeStandInIndex(PineconeStandIn owner, StandInHost host, string name, int? dimension, string metric,
        string vectorType, PineconeStandInDeployment deployment)
    {
        _owner = owner;
        Host = host;
        Name = name;
        Dimension = dimension;
        Metric = metric;
        VectorType = vectorType;
        Deployment = deployment;
        _shuffle = new Random(owner.Options.Seed ^ name.GetHashCode(StringComparison.Ordinal));
    }

    internal StandInHost Host { get; }

    /// <summary>This index host's contract findings, when the stand-in was started with a check.</summary>
    public ContractCheckMiddleware? Contracts => Host.Contracts;

    public string Name { get; }

    public int? Dimension { get; }

    public string Metric { get; }

    public string VectorType { get; }

    public PineconeStandInDeployment Deployment { get; }

    /// <summary>The host as the control plane reports it: <c>127.0.0.1:PORT</c>, no scheme.</summary>
    public string HostName => Host.BaseAddress.Authority;

    /// <summary>http://127.0.0.1:PORT/ of this index's data plane.</summary>
    public Uri Url => Host.BaseAddress;

    /// <summary>Called with the namespace and ids of each fetch before it is answered (e.g. to delete one meanwhile).</summary>
    public Action<string, IReadOnlyList<string>>? BeforeFetch { get; set; }

    private sealed class Space
    {
        public Dictionary<string, PineconeStandInVector> Records { get; } = new(StringComparer.Ordinal);

        private string[]? _sorted;

        public void Touch() => _sorted = null;

        public string[] Sorted()
        {
            if (_sorted is null)
            {
                _sorted = Records.Keys.ToArray();
                Array.Sort(_sorted, PineconeStandIn.Utf8Order);
            }
            return _sorted;
        }
    }

    private static string Key(string? @namespace) =>
        string.IsNullOrEmpty(@namespace) || @namespace == "__default__" ? "" : @namespace;

    /// <summary>Stores a record as given (no validation: seeding is the test's own business).</summary>
    public void Seed(string @namespace, string id, float[]? values = null, uint[]? sparseIndices = null, float[]? sparseValues = null,
        string? metadataJson = null)
    {
        Put(Key(@namespace), new PineconeStandInVector(id, values?.ToArray(), sparseIndices?.ToArray(), sparseValues?.ToArray(),
            metadataJson is null ? null : Encoding.UTF8.GetBytes(metadataJson)));
    }

    private void Put(string space, PineconeStandInVector v)
    {
        lock (_sync)
        {
            if (!_spaces.TryGetValue(space, out var s)) _spaces[space] = s = new Space();
            s.Records[v.Id] = v;
            s.Touch();
        }
    }

    public bool Delete(string @namespace, string id)
    {
        lock (_sync)
        {
            if (!_spaces.TryGetValue(Key(@namespace), out var s) || !s.Records.Remove(id)) return false;
            s.Touch();
            if (s.Records.Count == 0) _spaces.Remove(Key(@namespace));
            return true;
        }
    }

    public PineconeStandInVector? Get(string @namespace, string id)
    {
        lock (_sync) return _spaces.TryGetValue(Key(@namespace), out var s) && s.Records.TryGetValue(id, out var v) ? v : null;
    }

    /// <summary>The records of a namespace in list order.</summary>
    public IReadOnlyList<PineconeStandInVector> Records(string @namespace)
    {
        lock (_sync) return _spaces.TryGetValue(Key(@namespace), out var s) ? s.Sorted().Select(k => s.Records[k]).ToList() : [];
    }

    /// <summary>The namespaces that hold records ("" for the default one).</summary>
    public IReadOnlyList<string> Namespaces()
    {
        lock (_sync) return _spaces.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
    }

    internal void WriteModel(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        if (Dimension is { } d) w.WriteNumber("dimension", d);
        w.WriteString("metric", Metric);
        w.WriteString("host", HostName);
        w.WriteString("deletion_protection", "disabled");
        w.WriteStartObject("spec");
        if (Deployment == PineconeStandInDeployment.Pod)
        {
            w.WriteStartObject("pod");
            w.WriteString("environment", "us-east-1-aws");
            w.WriteString("pod_type", "p1.x1");
            w.WriteNumber("pods", 1);
            w.WriteNumber("replicas", 1);
            w.WriteNumber("shards", 1);
            w.WriteEndObject();
        }
        else
        {
            w.WriteStartObject("serverless");
            w.WriteString("cloud", "aws");
            w.WriteString("region", "us-east-1");
            w.WriteStartObject("read_capacity");
            w.WriteString("mode", "OnDemand");
            w.WriteStartObject("status");
            w.WriteString("state", "Ready");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("status");
        w.WriteBoolean("ready", true);
        w.WriteString("state", "Ready");
        w.WriteEndObject();
        w.WriteString("vector_type", VectorType);
        w.WriteEndObject();
    }

    private string Echo(string space) => space.Length == 0 ? _owner.Options.DefaultNamespaceName : space;

    private bool BadId(string id) =>
        id.Length == 0 || id.Length > PineconeStandIn.MaxIdLength || id.Contains('\0', StringComparison.Ordinal)
        || (_owner.Options.RequireAsciiIds && !id.All(c => c is >= '\x01' and <= '\x7F'));

    // ---------------------------------------------------------------- describe_index_stats

    internal async Task DescribeIndexStatsAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx, PineconeStandIn.MaxUpsertBytes).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(body ?? []);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            if (doc.RootElement.TryGetProperty("filter", out var f) && f.ValueKind == JsonValueKind.Object && f.EnumerateObject().Any()
                && Deployment == PineconeStandInDeployment.Serverless)
            {
                await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "Serverless indexes do not support describing index stats with metadata filtering.").ConfigureAwait(false);
                return;
            }
        }
        catch (JsonException)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "The request body is not a JSON object.").ConfigureAwait(false);
            return;
        }
        List<(string Name, long Count)> counts;
        lock (_sync) counts = _spaces.Select(kv => (Echo(kv.Key), (long)kv.Value.Records.Count)).ToList();
        await PineconeStandIn.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("namespaces");
            foreach (var (name, count) in counts)
            {
                w.WriteStartObject(name);
                w.WriteNumber("vectorCount", count);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (Dimension is { } d) w.WriteNumber("dimension", d);
            w.WriteNumber("indexFullness", Deployment == PineconeStandInDeployment.Pod ? 0.1 : 0);
            w.WriteNumber("totalVectorCount", counts.Sum(c => c.Count));
            w.WriteString("metric", Metric);
            w.WriteString("vectorType", VectorType);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- list

    internal async Task ListAsync(HttpContext ctx)
    {
        if (Deployment == PineconeStandInDeployment.Pod)
        {
            if (_owner.Options.PodList == PineconePodListAnswer.StringBody)
            {
                await PineconeStandIn.WriteJsonAsync(ctx, 200, w => w.WriteStringValue("List is not supported for this index.")).ConfigureAwait(false);
            }
            else
            {
                await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "The list operation is only supported for serverless indexes; this index is pod-based.").ConfigureAwait(false);
            }
            return;
        }
        var q = ctx.Request.Query;
        var space = Key(q["namespace"].ToString());
        var prefix = q["prefix"].ToString();
        var limit = PineconeStandIn.MaxListLimit;
        if (q.ContainsKey("limit") && (!int.TryParse(q["limit"].ToString(), out limit) || limit < 1 || limit > PineconeStandIn.MaxListLimit))
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, $"limit must be between 1 and {PineconeStandIn.MaxListLimit}.").ConfigureAwait(false);
            return;
        }
        if (prefix.Length > 0 && _owner.Options.RequireAsciiIds && !prefix.All(c => c is >= '\x01' and <= '\x7F'))
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "prefix must be ASCII.").ConfigureAwait(false);
            return;
        }
        string? skipPast = null;
        var token = q["paginationToken"].ToString();
        if (token.Length > 0)
        {
            if (!TryReadToken(token, out skipPast, out var tokenPrefix))
            {
                await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "Invalid pagination token.").ConfigureAwait(false);
                return;
            }
            if (prefix.Length == 0) prefix = tokenPrefix ?? "";
        }

        var page = new List<string>(limit);
        var more = false;
        lock (_sync)
        {
            if (_spaces.TryGetValue(space, out var s))
            {
                var sorted = s.Sorted();
                var start = LowerBound(sorted, prefix);
                if (skipPast is not null) start = Math.Max(start, UpperBound(sorted, skipPast));
                for (var i = start; i < sorted.Length; i++)
                {
                    if (!sorted[i].StartsWith(prefix, StringComparison.Ordinal)) break; // matches are contiguous
                    if (page.Count == limit)
                    {
                        more = true;
                        break;
                    }
                    page.Add(sorted[i]);
                }
            }
        }
        var next = page.Count == limit && (more || _owner.Options.TokenOnFullLastPage) ? MakeToken(page[^1], prefix) : null;
        await PineconeStandIn.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("vectors");
            foreach (var id in page)
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (next is not null)
            {
                w.WriteStartObject("pagination");
                w.WriteString("next", next);
                w.WriteEndObject();
            }
            w.WriteString("namespace", Echo(space));
            w.WriteStartObject("usage");
            w.WriteNumber("readUnits", 1);
            w.WriteEndObject();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static int LowerBound(string[] sorted, string value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (PineconeStandIn.CompareUtf8(sorted[mid], value) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static int UpperBound(string[] sorted, string value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (PineconeStandIn.CompareUtf8(sorted[mid], value) <= 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    // The token has the shape real ones decode to: base64 (with '+', '/' and '=') of {"skip_past": id, "prefix": p}.
    private static string MakeToken(string skipPast, string prefix)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["skip_past"] = skipPast, ["prefix"] = prefix });
        return Convert.ToBase64String(json);
    }

    private static bool TryReadToken(string token, out string? skipPast, out string? prefix)
    {
        skipPast = prefix = null;
        try
        {
            using var doc = JsonDocument.Parse(Convert.FromBase64String(token));
            skipPast = doc.RootElement.GetProperty("skip_past").GetString();
            prefix = doc.RootElement.TryGetProperty("prefix", out var p) ? p.GetString() : null;
            return skipPast is not null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- fetch

    internal async Task FetchAsync(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var space = Key(q["namespace"].ToString());
        var ids = q["ids"].Select(s => s ?? "").ToList();
        if (ids.Count == 0)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, "At least one id must be provided.").ConfigureAwait(false);
            return;
        }
        if (ids.Count > PineconeStandIn.MaxFetchIds)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, $"Cannot fetch more than {PineconeStandIn.MaxFetchIds} ids at once; got {ids.Count}.").ConfigureAwait(false);
            return;
        }
        if (ids.FirstOrDefault(BadId) is { } bad)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, $"Invalid id '{bad}'.").ConfigureAwait(false);
            return;
        }
        BeforeFetch?.Invoke(space, ids);
        var found = new List<PineconeStandInVector>(ids.Count);
        lock (_sync)
        {
            if (_spaces.TryGetValue(space, out var s))
            {
                foreach (var id in ids.Distinct(StringComparer.Ordinal))
                {
                    if (s.Records.TryGetValue(id, out var v)) found.Add(v);
                }
            }
            // A map has no order: answer in a shuffled one, never the request's.
            for (var i = found.Count - 1; i > 0; i--)
            {
                var j = _shuffle.Next(i + 1);
                (found[i], found[j]) = (found[j], found[i]);
            }
        }
        var sparseIndex = VectorType == "sparse";
        await PineconeStandIn.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("vectors");
            foreach (var v in found)
            {
                w.WriteStartObject(v.Id);
                w.WriteString("id", v.Id);
                if (v.Values is not null || sparseIndex)
                {
                    w.WriteStartArray("values");
                    foreach (var f in v.Values ?? []) w.WriteNumberValue(f); // shortest round-trip text: the bits survive
                    w.WriteEndArray();
                }
                if (v.SparseIndices is not null && v.SparseValues is not null)
                {
                    w.WriteStartObject("sparseValues");
                    w.WriteStartArray("indices");
                    foreach (var i in v.SparseIndices) w.WriteNumberValue(i);
                    w.WriteEndArray();
                    w.WriteStartArray("values");
                    foreach (var f in v.SparseValues) w.WriteNumberValue(f);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                if (v.Metadata is not null)
                {
                    w.WritePropertyName("metadata");
                    w.WriteRawValue(v.Metadata, skipInputValidation: true);
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteNamespaceAndUsage(w, space, Math.Max(1, found.Count / 10));
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>The tail data-plane answers share: the namespace as this stand-in names it, and the read units spent.</summary>
    private void WriteNamespaceAndUsage(Utf8JsonWriter w, string space, int readUnits)
    {
        w.WriteString("namespace", Echo(space));
        w.WriteStartObject("usage");
        w.WriteNumber("readUnits", readUnits);
        w.WriteEndObject();
    }

    // ---------------------------------------------------------------- upsert

    internal async Task UpsertAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx, PineconeStandIn.MaxUpsertBytes).ConfigureAwait(false);
        if (body is null)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3,
                $"Request size exceeds the maximum supported size of {PineconeStandIn.MaxUpsertBytes} bytes (2 MB).").ConfigureAwait(false);
            return;
        }
        string space;
        List<PineconeStandInVector> vectors;
        try
        {
            (space, vectors) = ParseUpsert(body);
        }
        catch (UpsertRefused ex)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, ex.Message).ConfigureAwait(false);
            return;
        }
        foreach (var v in vectors) Put(space, v);
        await PineconeStandIn.WriteJsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("upsertedCount", vectors.Count);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private sealed class UpsertRefused(string message) : Exception(message);

    /// <summary>How many queries were answered.</summary>
    public int QueryRequests => Volatile.Read(ref _queries);

    private int _queries;

    /// <summary>
    /// <c>POST /query</c> with a dense <c>vector</c> (the subset VecMigrate sends: <c>namespace</c>, <c>topK</c> 1..10,000,
    /// <c>includeValues</c>/<c>includeMetadata</c> false): every record of the namespace compared, so exact (Pinecone's
    /// own index is approximate). Scores as Pinecone documents them: cosine similarity, the dot product, and for
    /// euclidean the squared distance, lower nearer; float32 arithmetic; matches most similar first, ties in id order.
    /// Queries by id, sparse vector, filter or with values/metadata answer 400 naming the stand-in.
    /// </summary>
    internal async Task QueryAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx, PineconeStandIn.MaxUpsertBytes).ConfigureAwait(false);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body ?? []);
        }
        catch (JsonException ex)
        {
            await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, $"Invalid JSON: {ex.Message}").ConfigureAwait(false);
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            string? refused = null;
            foreach (var key in new[] { "id", "sparseVector", "filter", "queries", "scanFactor", "maxCandidates" })
            {
                if (root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) refused = $"'{key}' in a query is not supported by the stand-in";
            }
            foreach (var key in new[] { "includeValues", "includeMetadata" })
            {
                if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True) refused = $"'{key}' is not supported by the stand-in";
            }
            var topK = 0;
            if (!root.TryGetProperty("topK", out var k) || !k.TryGetInt32(out topK)) refused ??= "The request must include topK.";
            else if (topK is < 1 or > 10_000) refused ??= $"Invalid value for topK: {topK}. Must be between 1 and 10000.";
            if (!root.TryGetProperty("vector", out var vec) || vec.ValueKind != JsonValueKind.Array) refused ??= "Query must include a vector or an id.";
            if (refused is null && Dimension is { } dim && vec.GetArrayLength() != dim)
                refused = $"Vector dimension {vec.GetArrayLength()} does not match the dimension of the index {dim}.";
            if (refused is not null)
            {
                await PineconeStandIn.WriteRpcErrorAsync(ctx, 400, 3, refused).ConfigureAwait(false);
                return;
            }
            Interlocked.Increment(ref _queries);
            var query = vec.EnumerateArray().Select(x => x.GetSingle()).ToArray();
            var space = Key(root.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
            List<PineconeStandInVector> records;
            lock (_sync) records = _spaces.TryGetValue(space, out var s) ? s.Records.Values.Where(r => r.Values is not null).ToList() : [];
            var euclid = Metric == "euclidean";
            float Score(float[] v)
            {
                float sum = 0, qq = 0, vv = 0;
                for (var i = 0; i < query.Length; i++)
                {
                    if (euclid) sum += (query[i] - v[i]) * (query[i] - v[i]);
                    else sum += query[i] * v[i];
                    qq += query[i] * query[i];
                    vv += v[i] * v[i];
                }
                return Metric == "cosine" ? (qq == 0 || vv == 0 ? 0 : sum / (MathF.Sqrt(qq) * MathF.Sqrt(vv))) : sum;
            }
            var scored = records.Select(r => (r.Id, Score: Score(r.Values!))).ToList();
            var best = (euclid ? scored.OrderBy(h => h.Score) : scored.OrderByDescending(h => h.Score))
                .ThenBy(h => h.Id, PineconeStandIn.Utf8Order).Take(topK).ToList();
            await PineconeStandIn.WriteJsonAsync(ctx, 200, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("matches");
                foreach (var (id, score) in best)
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteNumber("score", score);
                    w.WriteStartArray("values");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                WriteNamespaceAndUsage(w, space, Math.Max(1, records.Count / 1000));
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }
    }

    /// <summary>Checks a whole upsert before storing any of it (a refused request stores nothing).</summary>
    private (string Space, List<PineconeStandInVector> Vectors) ParseUpsert(byte[] body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new UpsertRefused($"The request body is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UpsertRefused("The request body is not a JSON object.");
            var space = "";
            if (root.TryGetProperty("namespace", out var ns))
            {
                if (ns.ValueKind != JsonValueKind.String) throw new UpsertRefused("namespace must be a string.");
                space = Key(ns.GetString());
            }
            if (!root.TryGetProperty("vectors", out var vs) || vs.ValueKind != JsonValueKind.Array) throw new UpsertRefused("vectors is required and must be an array.");
            var count = vs.GetArrayLength();
            if (count == 0) throw new UpsertRefused("vectors must not be empty.");
            if (count > PineconeStandIn.MaxUpsertVectors) throw new UpsertRefused($"Cannot upsert more than {PineconeStandIn.MaxUpsertVectors} vectors at once; got {count}.");
            var result = new List<PineconeStandInVector>(count);
            foreach (var v in vs.EnumerateArray()) result.Add(ParseVector(v));
            return (space, result);
        }
    }

    private PineconeStandInVector ParseVector(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) throw new UpsertRefused("Each vector must be an object.");
        if (!v.TryGetProperty("id", out var idEl) || idEl.ValueKind != JsonValueKind.String) throw new UpsertRefused("Each vector needs a string id.");
        var id = idEl.GetString()!;
        if (id.Length > PineconeStandIn.MaxIdLength) throw new UpsertRefused($"Vector id length {id.Length} exceeds the maximum of {PineconeStandIn.MaxIdLength} characters.");
        if (BadId(id)) throw new UpsertRefused($"Invalid vector id '{id}'.");

        float[]? values = null;
        if (v.TryGetProperty("values", out var valuesEl) && valuesEl.ValueKind != JsonValueKind.Null)
        {
            values = ReadFloats(valuesEl, id, "values");
            if (values.Length == 0) values = null;
        }
        uint[]? sparseIndices = null;
        float[]? sparseValues = null;
        if (v.TryGetProperty("sparseValues", out var sv) && sv.ValueKind != JsonValueKind.Null)
        {
            if (sv.ValueKind != JsonValueKind.Object
                || !sv.TryGetProperty("indices", out var ie) || ie.ValueKind != JsonValueKind.Array
                || !sv.TryGetProperty("values", out var ve))
            {
                throw new UpsertRefused($"sparseValues of vector '{id}' needs indices and values arrays.");
            }
            sparseIndices = ie.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetUInt32(out var u)
                ? u : throw new UpsertRefused($"Sparse indices of vector '{id}' must be unsigned 32-bit integers.")).ToArray();
            sparseValues = ReadFloats(ve, id, "sparseValues.values");
            if (sparseIndices.Length != sparseValues.Length)
            {
                throw new UpsertRefused($"Sparse vector of '{id}' has {sparseIndices.Length} indices but {sparseValues.Length} values.");
            }
            if (sparseIndices.Length > PineconeStandIn.MaxSparseValues)
            {
                throw new UpsertRefused($"Sparse vector of '{id}' has {sparseIndices.Length} non-zero values; the maximum is {PineconeStandIn.MaxSparseValues}.");
            }
            if (sparseIndices.Distinct().Count() != sparseIndices.Length) throw new UpsertRefused($"Sparse vector of '{id}' repeats an index.");
            if (sparseIndices.Length == 0) sparseIndices = null;
            if (sparseIndices is null) sparseValues = null;
        }

        if (VectorType == "sparse")
        {
            if (values is not null) throw new UpsertRefused($"Vector '{id}' has dense values, but the index is sparse.");
            if (sparseIndices is null) throw new UpsertRefused($"Vector '{id}' has no sparse values; a sparse index needs them.");
        }
        else
        {
            if (values is null) throw new UpsertRefused($"Vector '{id}' has no dense values; the index is dense.");
            if (values.Length != Dimension)
            {
                throw new UpsertRefused($"Vector dimension {values.Length} does not match the dimension of the index {Dimension}.");
            }
            if (Array.TrueForAll(values, f => f == 0f))
            {
                // Pinecone's own wording (observed in 400 answers; its limits page: dense vectors need a non-zero value).
                throw new UpsertRefused($"Dense vectors must contain at least one non-zero value. Vector ID '{id}' contains only zeros");
            }
        }

        byte[]? metadata = null;
        if (v.TryGetProperty("metadata", out var md) && md.ValueKind != JsonValueKind.Null)
        {
            metadata = NormalizeMetadata(md, id);
        }
        return new PineconeStandInVector(id, values, sparseIndices, sparseValues, metadata);
    }

    private static float[] ReadFloats(JsonElement array, string id, string field)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new UpsertRefused($"{field} of vector '{id}' must be an array of numbers.");
        var result = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetSingle(out var f) || !float.IsFinite(f))
            {
                throw new UpsertRefused($"{field} of vector '{id}' holds a value that is not a finite 32-bit float.");
            }
            result[i++] = f;
        }
        return result;
    }

    /// <summary>
    /// Metadata is a flat object of strings, numbers, booleans and lists of strings; null values and nested
    /// objects are refused; numbers are stored as 64-bit floats (as Pinecone documents); at most 40 KB.
    /// </summary>
    private static byte[] NormalizeMetadata(JsonElement md, string id)
    {
        if (md.ValueKind != JsonValueKind.Object) throw new UpsertRefused($"Metadata of vector '{id}' must be an object.");
        var size = Encoding.UTF8.GetByteCount(md.GetRawText());
        if (size > PineconeStandIn.MaxMetadataBytes)
        {
            throw new UpsertRefused($"Metadata size is {size} bytes, which exceeds the limit of {PineconeStandIn.MaxMetadataBytes} bytes per vector.");
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(size + 16);
        using (var w = new Utf8JsonWriter(buffer, PineconeStandIn.WriterOptions))
        {
            w.WriteStartObject();
            foreach (var p in md.EnumerateObject())
            {
                w.WritePropertyName(p.Name);
                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.String:
                    case JsonValueKind.True:
                    case JsonValueKind.False:
                        w.WriteRawValue(p.Value.GetRawText(), skipInputValidation: true);
                        break;
                    case JsonValueKind.Number:
                        w.WriteNumberValue(p.Value.GetDouble());
                        break;
                    case JsonValueKind.Array:
                        if (p.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                        {
                            throw new UpsertRefused($"Metadata value for key '{p.Name}' of vector '{id}' is a list that holds something other than strings; only lists of strings are supported.");
                        }
                        w.WriteRawValue(p.Value.GetRawText(), skipInputValidation: true);
                        break;
                    case JsonValueKind.Null:
                        throw new UpsertRefused($"Metadata value for key '{p.Name}' of vector '{id}' is null; null metadata values are not supported (remove the key instead).");
                    default:
                        throw new UpsertRefused($"Metadata value for key '{p.Name}' of vector '{id}' is an object; nested objects are not supported (metadata must be flat).");
                }
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The request body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext ctx, int limit)
    {
        if (ctx.Request.ContentLength > limit) return null;
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > limit) return null;
        }
        return ms.ToArray();
    }
}
