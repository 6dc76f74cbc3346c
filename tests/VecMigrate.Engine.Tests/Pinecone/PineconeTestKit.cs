using System.Net.Http.Headers;
using System.Text;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

/// <summary>A stand-in Pinecone and a client wired to it, with every log line kept.</summary>
internal sealed class PineconeTestKit : IAsyncDisposable
{
    /// <summary>Retries quick enough for tests: only a server's Retry-After makes them wait long.</summary>
    public static readonly RetryPolicy FastRetry = new()
    {
        MaxAttempts = 5,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
    };

    private PineconeTestKit(PineconeStandIn standIn, RestTransport transport, PineconeClient client, CollectingLogger logs)
    {
        StandIn = standIn;
        Transport = transport;
        Client = client;
        Logs = logs;
    }

    public PineconeStandIn StandIn { get; }

    public RestTransport Transport { get; }

    public PineconeClient Client { get; }

    public CollectingLogger Logs { get; }

    /// <param name="checkContracts">Check every exchange of every host against Pinecone's documents, when they are there
    /// (see <see cref="AssertConforms"/>); without them the kit runs unchecked.</param>
    public static async Task<PineconeTestKit> StartAsync(PineconeStandInOptions? options = null, RetryPolicy? retry = null,
        string? apiKey = null, PineconeClientOptions? clientOptions = null, bool checkContracts = false)
    {
        var contracts = checkContracts && VendorContracts.TryLoad(out var documents) ? documents.PineconeCheck() : null;
        var standIn = await PineconeStandIn.StartAsync(options, contracts);
        var logs = new CollectingLogger();
        var transport = new RestTransport(retry ?? FastRetry, TimeSpan.FromSeconds(30), logs);
        var client = new PineconeClient(new ApiSecret(apiKey ?? standIn.ApiKey), transport, clientOptions ?? new PineconeClientOptions
        {
            ControlPlaneUrl = standIn.ControlPlaneUrl,
            DataPlaneScheme = "http",
        });
        return new PineconeTestKit(standIn, transport, client, logs);
    }

    /// <summary>A source that finds the index through the control plane, or (<paramref name="byHost"/>) by its host.</summary>
    public PineconeSource Source(string index, bool byHost = false) => new(Client, new PineconeSourceOptions
    {
        IndexName = index,
        IndexHost = byHost ? StandIn.Index(index).HostName : null,
    });

    public static async Task<List<VectorRecord>> ReadAllAsync(PineconeSource source, PineconeReadOptions? options = null)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in source.ReadAsync(options)) list.Add(r);
        return list;
    }

    /// <summary>
    /// With <c>checkContracts</c>: no contract violation on any host, in at least <paramref name="exchanges"/> checked
    /// exchanges. Nothing to assert when the kit runs unchecked.
    /// </summary>
    public void AssertConforms(int exchanges)
    {
        if (StandIn.Contracts is null) return;
        StandIn.EnsureNoContractViolations();
        var count = StandIn.ContractExchangesChecked;
        Assert.True(count >= exchanges, $"only {count} exchange(s) checked, expected {exchanges}");
    }

    /// <summary>A plain HTTP client for driving the stand-in directly (upserts, limits).</summary>
    public HttpClient RawClient(string? apiKey = null, string? version = PineconeStandIn.ApiVersion)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Api-Key", apiKey ?? StandIn.ApiKey);
        if (version is not null) http.DefaultRequestHeaders.TryAddWithoutValidation("X-Pinecone-Api-Version", version);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Transport.Dispose();
        await StandIn.DisposeAsync();
    }
}
