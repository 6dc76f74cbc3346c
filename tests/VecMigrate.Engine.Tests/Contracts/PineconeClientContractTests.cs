using System.Diagnostics;
using System.Net;
using System.Text.Json;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>
/// The engine's Pinecone client and source driven against a stand-in whose control plane and index hosts
/// check every exchange against the 2026-04 documents: our requests and the stand-in's answers both. Each
/// test ends with no violations on any host, in a nonzero number of checked exchanges. The stand-in's
/// opt-in modes that break the document on purpose (PlainTextGatewayErrors, PodList = StringBody) appear
/// only in the last tests, which prove the checks flag them.
/// </summary>
public sealed class PineconeClientContractTests
{
    private static readonly RetryPolicy FastRetry = new()
    {
        MaxAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
    };

    /// <summary>Ids that are awkward in a query string: reserved characters, spaces, percent signs, non-ASCII.</summary>
    private static readonly string[] AwkwardIds =
    [
        "a b", "a#b", "a&b", "a/b", "a+b", "a%b", "a%20b", "a?b", "a=b", "a;b", "#", "%", "+", "&&", "?x=1&y=2",
        "trailing ", " leading", "naïve", "日本語", "emoji😀", "quote\"d", "back\\slash", "tab\tin", "%2B", "a+b c%26d#e",
    ];

    private sealed class Kit : IAsyncDisposable
    {
        public required PineconeStandIn StandIn { get; init; }
        public required RestTransport Transport { get; init; }
        public required PineconeClient Client { get; init; }

        public PineconeClient ClientWithKey(string key) => new(new ApiSecret(key), Transport, Client.Options);

        public PineconeSource Source(string index, bool byHost = false) => new(Client, new PineconeSourceOptions
        {
            IndexName = index,
            IndexHost = byHost ? StandIn.Index(index).HostName : null,
        });

        /// <summary>No violations on any host, and at least <paramref name="exchanges"/> exchanges checked in all.</summary>
        public void AssertConforms(int exchanges)
        {
            StandIn.EnsureNoContractViolations();
            var checkedCount = StandIn.ContractExchangesChecked;
            Assert.True(checkedCount >= exchanges, $"only {checkedCount} exchange(s) checked, expected {exchanges}");
        }

        public async ValueTask DisposeAsync()
        {
            Transport.Dispose();
            await StandIn.DisposeAsync();
        }
    }

    private static async Task<Kit> StartAsync(PineconeStandInOptions? options = null, RetryPolicy? retry = null)
    {
        var standIn = await PineconeStandIn.StartAsync(options, VendorContracts.Load().PineconeCheck());
        var transport = new RestTransport(retry ?? FastRetry, TimeSpan.FromSeconds(30));
        var client = new PineconeClient(new ApiSecret(standIn.ApiKey), transport, new PineconeClientOptions
        {
            ControlPlaneUrl = standIn.ControlPlaneUrl,
            DataPlaneScheme = "http",
        });
        return new Kit { StandIn = standIn, Transport = transport, Client = client };
    }

    private static IEnumerable<(string Ns, string Id)> Sorted(IEnumerable<(string Ns, string Id)> keys) =>
        keys.OrderBy(k => k.Ns, StringComparer.Ordinal).ThenBy(k => k.Id, StringComparer.Ordinal);

    private static float[] Vec(int seed, int dim = 4) => Enumerable.Range(0, dim).Select(i => seed * 0.25f + i).ToArray();

    // ---------------------------------------------------------------- control plane

    [ContractFact]
    public async Task Listing_and_describing_serverless_pod_and_sparse_indexes_conforms()
    {
        await using var kit = await StartAsync();
        await kit.StandIn.CreateIndexAsync("serverless", 4);
        await kit.StandIn.CreateIndexAsync("pods", 8, "euclidean", PineconeStandInDeployment.Pod);
        await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");

        var all = await kit.Client.ListIndexesAsync();
        var serverless = await kit.Client.DescribeIndexAsync("serverless");
        var pods = await kit.Client.DescribeIndexAsync("pods");
        var sparse = await kit.Client.DescribeIndexAsync("sparse");

        Assert.Equal(["pods", "serverless", "sparse"], all.Select(i => i.Name));
        Assert.Equal(PineconeDeployment.Serverless, serverless.Deployment);
        Assert.Equal(PineconeDeployment.Pod, pods.Deployment);
        Assert.Equal((8, "euclidean"), (pods.Dimension!.Value, pods.Metric));
        Assert.Null(sparse.Dimension);
        Assert.Equal("sparse", sparse.VectorType);
        Assert.True(serverless.Ready);
        kit.AssertConforms(4);
    }

    // ---------------------------------------------------------------- data plane

    [ContractTheory]
    [InlineData("__default__")]
    [InlineData("")]
    public async Task Describe_index_stats_conforms_for_dense_sparse_and_pod_indexes(string defaultName)
    {
        await using var kit = await StartAsync(new PineconeStandInOptions { DefaultNamespaceName = defaultName });
        var dense = await kit.StandIn.CreateIndexAsync("dense", 4);
        var sparse = await kit.StandIn.CreateIndexAsync("sparse", null, "dotproduct");
        var pods = await kit.StandIn.CreateIndexAsync("pods", 4, "dotproduct", PineconeStandInDeployment.Pod);
        dense.Seed("", "d1", Vec(1));
        dense.Seed("alpha", "a1", Vec(2));
        dense.Seed("alpha", "a2", Vec(3));
        sparse.Seed("s", "x", sparseIndices: [1, 5], sparseValues: [0.5f, 0.25f]);

        var d = await kit.Client.DescribeIndexStatsAsync(dense.Url);
        var s = await kit.Client.DescribeIndexStatsAsync(sparse.Url);
        var p = await kit.Client.DescribeIndexStatsAsync(pods.Url);

        Assert.Equal(3, d.TotalVectorCount);
        Assert.Equal(2, d.Namespaces["alpha"]);
        Assert.Equal(1, d.Namespaces[defaultName]);
        Assert.Null(s.Dimension);
        Assert.Equal("sparse", s.VectorType);
        Assert.Empty(p.Namespaces);
        kit.AssertConforms(3);
    }

    [ContractFact]
    public async Task List_with_prefix_limit_and_pagination_tokens_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 4);
        for (var i = 0; i < 23; i++)
        {
            index.Seed("", $"doc1#{i:D2}", Vec(i));
            index.Seed("ns one/ü", $"doc1#{i:D2}", Vec(i));
            index.Seed("ns one/ü", $"doc2#{i:D2}", Vec(i));
        }
        for (var i = 0; i < AwkwardIds.Length; i++) index.Seed("odd", AwkwardIds[i], Vec(i));

        async Task<List<string>> ListAll(string ns, string? prefix, int? limit)
        {
            var ids = new List<string>();
            string? token = null;
            var pages = 0;
            do
            {
                var page = await kit.Client.ListIdsAsync(index.Url, ns, prefix, limit, token);
                ids.AddRange(page.Ids);
                token = page.NextToken;
                Assert.True(++pages < 100);
            }
            while (token is not null);
            return ids;
        }

        var defaultAll = await ListAll("", null, null);
        var defaultByFive = await ListAll("__default__", null, 5);
        var prefixed = await ListAll("ns one/ü", "doc2#", 4);
        var odd = await ListAll("odd", null, 3);
        var oddPrefix = await ListAll("odd", "a+b", 1);
        var none = await ListAll("missing", null, 100);

        Assert.Equal(23, defaultAll.Count);
        Assert.Equal(defaultAll, defaultByFive);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"doc2#{i:D2}"), prefixed);
        Assert.Equal(index.Records("odd").Select(r => r.Id), odd);
        Assert.Equal(["a+b", "a+b c%26d#e"], oddPrefix);
        Assert.Empty(none);
        kit.AssertConforms(20);
    }

    [ContractFact]
    public async Task Fetch_of_awkward_ids_in_several_namespaces_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("hybrid", 4, "dotproduct");
        for (var i = 0; i < AwkwardIds.Length; i++)
        {
            var metadata = JsonSerializer.Serialize(new { orig = AwkwardIds[i], n = i, even = i % 2 == 0, tags = new[] { "x", "y" } });
            index.Seed("", AwkwardIds[i], Vec(i), metadataJson: metadata);
            index.Seed("other ns", AwkwardIds[i], Vec(i + 100), sparseIndices: [(uint)i, 1000], sparseValues: [0.5f, -1f]);
        }
        index.Seed("bare", "only-values", Vec(7));

        var fromDefault = await kit.Client.FetchAsync(index.Url, "", [.. AwkwardIds, "not-there"]);
        var fromReserved = await kit.Client.FetchAsync(index.Url, "__default__", AwkwardIds[..3]);
        var fromOther = await kit.Client.FetchAsync(index.Url, "other ns", AwkwardIds);
        var bare = await kit.Client.FetchAsync(index.Url, "bare", ["only-values"]);

        Assert.Equal(AwkwardIds.Order(StringComparer.Ordinal), fromDefault.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, fromReserved.Count);
        Assert.All(fromOther.Values, r => Assert.Equal(2, r.Vectors.Count));
        Assert.Null(Assert.Single(bare.Values).Payload);
        kit.AssertConforms(4);
    }

    [ContractFact]
    public async Task Fetch_split_by_url_length_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("long", 4);
        var ids = Enumerable.Range(0, 300).Select(i => $"{new string('é', 40)}-{i}").ToList();
        foreach (var id in ids) index.Seed("ns", id, Vec(1));

        var found = await kit.Client.FetchAsync(index.Url, "ns", ids);

        Assert.Equal(300, found.Count);
        Assert.True(kit.StandIn.Requests.Count(r => r.Path == "/vectors/fetch") > 1);
        kit.AssertConforms(2);
    }

    // ---------------------------------------------------------------- errors

    [ContractFact]
    public async Task Wrong_api_key_gets_documented_401s_from_both_planes()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 4);
        var wrong = kit.ClientWithKey("pcsk_wrong");

        var control = await Assert.ThrowsAsync<VecMigrateException>(() => wrong.DescribeIndexAsync("docs"));
        var data = await Assert.ThrowsAsync<VecMigrateException>(() => wrong.ListIdsAsync(index.Url, ""));
        var listIndexes = await Assert.ThrowsAsync<VecMigrateException>(() => wrong.ListIndexesAsync());

        Assert.All(new[] { control, data, listIndexes }, e => Assert.Equal(PineconeErrorIds.Unauthorized, e.ErrorId));
        kit.AssertConforms(3);
    }

    [ContractFact]
    public async Task Missing_index_gets_the_documented_404()
    {
        await using var kit = await StartAsync();

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.DescribeIndexAsync("nope"));

        Assert.Equal(PineconeErrorIds.IndexNotFound, ex.ErrorId);
        kit.AssertConforms(1);
    }

    [ContractFact]
    public async Task Data_plane_429_with_Retry_After_is_retried_and_conforms()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("busy", 4);
        index.Seed("", "a", Vec(1));
        kit.StandIn.FailNext(1, 429, TimeSpan.FromSeconds(1), "/vectors/fetch");
        kit.StandIn.FailNext(1, 429, null, "/vectors/list");
        kit.StandIn.FailNext(1, 503, null, "/describe_index_stats");

        var watch = Stopwatch.StartNew();
        var records = await kit.Source("busy").ReadAsync().ReadAllAsync();

        Assert.Equal("a", Assert.Single(records).Id.AsString);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({watch.Elapsed})");
        Assert.Equal(0, kit.StandIn.PendingFailures);
        kit.AssertConforms(7);
    }

    [ContractFact]
    public async Task Data_plane_429_that_does_not_pass_ends_as_rate_limited_and_conforms()
    {
        await using var kit = await StartAsync(retry: new RetryPolicy { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1) });
        var index = await kit.StandIn.CreateIndexAsync("busy", 4);
        kit.StandIn.FailNext(5, 429, TimeSpan.Zero, "/describe_index_stats");

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.DescribeIndexStatsAsync(index.Url));

        Assert.Equal(PineconeErrorIds.RateLimited, ex.ErrorId);
        kit.AssertConforms(2);
    }

    [ContractFact]
    public async Task Pod_index_refuses_list_with_a_documented_400()
    {
        await using var kit = await StartAsync();
        var pods = await kit.StandIn.CreateIndexAsync("pods", 4, "cosine", PineconeStandInDeployment.Pod);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.ListIdsAsync(pods.Url, ""));

        Assert.Equal(PineconeErrorIds.ListUnsupported, ex.ErrorId);
        kit.AssertConforms(1);
    }

    // ---------------------------------------------------------------- the source, end to end

    [ContractTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Source_reads_every_namespace_over_many_pages_and_conforms(bool byHost)
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("all", 4, "dotproduct");
        var expected = new List<(string Ns, string Id)>();
        foreach (var ns in new[] { "", "alpha", "β space" })
        {
            for (var i = 0; i < AwkwardIds.Length; i++)
            {
                var id = ns.Length == 0 ? AwkwardIds[i] : $"{ns}:{i}";
                index.Seed(ns, id, Vec(i), i % 3 == 0 ? new[] { (uint)i } : null, i % 3 == 0 ? new[] { 1.5f } : null,
                    i % 2 == 0 ? JsonSerializer.Serialize(new { i, ns }) : null);
                expected.Add((ns, id));
            }
        }
        var sparse = await kit.StandIn.CreateIndexAsync("sparse-all", null, "dotproduct");
        for (var i = 0; i < 10; i++) sparse.Seed("", $"s{i}", sparseIndices: [(uint)i, 99], sparseValues: [i + 0.5f, 1f]);

        var records = await kit.Source("all", byHost).ReadAsync(new PineconeReadOptions { PageSize = 4 }).ReadAllAsync();
        var sparseRecords = await kit.Source("sparse-all", byHost).ReadAsync(new PineconeReadOptions { PageSize = 3 }).ReadAllAsync();

        Assert.Equal(Sorted(expected), Sorted(records.Select(r => (r.Namespace!, r.Id.AsString))));
        foreach (var r in records)
        {
            var stored = index.Get(r.Namespace!, r.Id.AsString)!;
            Assert.Equal(stored.Values, r.Embedding);
            Assert.Equal(stored.MetadataJson, r.Payload?.ToString());
        }
        Assert.Equal(10, sparseRecords.Count);
        Assert.All(sparseRecords, r => Assert.IsType<SparseVector>(Assert.Single(r.Vectors).Value));
        kit.AssertConforms(30);
    }

    [ContractFact]
    public async Task Sampling_passes_through_to_the_control_plane_and_every_index_host()
    {
        await using var standIn = await PineconeStandIn.StartAsync(null, VendorContracts.Load().PineconeCheck(), ContractSampling.Every(3, first: 1));
        var index = await standIn.CreateIndexAsync("docs", 4);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Api-Key", standIn.ApiKey);
        http.DefaultRequestHeaders.TryAddWithoutValidation("X-Pinecone-Api-Version", PineconeStandIn.ApiVersion);

        for (var i = 0; i < 6; i++)
        {
            (await http.GetAsync(new Uri(standIn.ControlPlaneUrl, "indexes"))).Dispose();
            (await http.GetAsync(new Uri(index.Url, "vectors/list"))).Dispose();
        }

        // Each host: the first, then numbers 3 and 6.
        Assert.Equal((6, 3), (standIn.Contracts!.ExchangesSeen, standIn.Contracts.ExchangesChecked));
        Assert.Equal((6, 3), (index.Contracts!.ExchangesSeen, index.Contracts.ExchangesChecked));
        Assert.Equal(6, standIn.ContractExchangesChecked);
        standIn.EnsureNoContractViolations();
    }

    // ---------------------------------------------------------------- the wiring catches drift

    [ContractFact]
    public async Task A_request_that_breaks_the_document_is_recorded_so_the_checks_cannot_pass_silently()
    {
        await using var kit = await StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("docs", 4);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Api-Key", kit.StandIn.ApiKey);

        // No X-Pinecone-Api-Version, a limit that is not a number, a parameter the document does not have,
        // and a describe_index_stats filter that is not an object.
        using var list = await http.GetAsync(new Uri(index.Url, "vectors/list?limit=ten&cursor=abc"));
        http.DefaultRequestHeaders.TryAddWithoutValidation("X-Pinecone-Api-Version", PineconeStandIn.ApiVersion);
        using var _ = await http.PostAsync(new Uri(index.Url, "describe_index_stats"),
            new StringContent("""{"filter": "genre = drama"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        var violations = kit.StandIn.ContractViolations;
        Assert.All(violations, v => Assert.Equal(ContractDirection.Request, v.Direction));
        Assert.Contains(violations, v => v.InstancePath == "header X-Pinecone-Api-Version");
        Assert.Contains(violations, v => v.InstancePath == "?limit");
        Assert.Contains(violations, v => v.InstancePath == "?cursor");
        Assert.Contains(violations, v => v.InstancePath == "$.filter");
        Assert.Throws<ContractViolationException>(kit.StandIn.EnsureNoContractViolations);
    }

    [ContractFact]
    public async Task The_modes_that_break_the_2026_04_document_on_purpose_are_flagged()
    {
        // PlainTextGatewayErrors copies what Pinecone's gateway does (documented from 2026-07 on); PodList =
        // StringBody copies a pod index seen answering list with a bare string. Neither is what 2026-04 promises,
        // so a check must flag both: these modes are for testing the client's tolerance, not the contract.
        await using var kit = await StartAsync(new PineconeStandInOptions
        {
            PlainTextGatewayErrors = true,
            PodList = PineconePodListAnswer.StringBody,
        });
        var pods = await kit.StandIn.CreateIndexAsync("pods", 4, "cosine", PineconeStandInDeployment.Pod);

        var list = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.ListIdsAsync(pods.Url, ""));
        var unauthorized = await Assert.ThrowsAsync<VecMigrateException>(() => kit.ClientWithKey("pcsk_wrong").FetchAsync(pods.Url, "", ["a"]));

        Assert.Equal(PineconeErrorIds.ListUnsupported, list.ErrorId);
        Assert.Equal(PineconeErrorIds.Unauthorized, unauthorized.ErrorId);
        var violations = pods.Contracts!.Violations;
        Assert.All(violations, v => Assert.Equal(ContractDirection.Response, v.Direction));
        Assert.Contains(violations, v => v.Path == "/vectors/list" && v.Status == 200);
        Assert.Contains(violations, v => v.Path == "/vectors/fetch" && v.Status == 401 && v.Message.Contains("text/plain", StringComparison.Ordinal));
    }

    [ContractFact]
    public void The_empty_fetch_values_allowance_is_narrow()
    {
        var check = VendorContracts.Load().PineconeCheck();
        static ContractExchange Fetch(string body) => new("GET", "/vectors/fetch")
        {
            Query = "?ids=a",
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = System.Text.Encoding.UTF8.GetBytes(body),
        };

        // A sparse-index record as Pinecone answers it.
        Assert.Empty(check.Check(Fetch("""{"vectors": {"a": {"id": "a", "values": [], "sparseValues": {"indices": [1], "values": [0.5]}}}, "namespace": ""}""")));
        // Not covered: other keywords of the same record, and the same keyword in an upsert request.
        Assert.NotEmpty(check.Check(Fetch("""{"vectors": {"a": {"id": "", "values": []}}, "namespace": ""}""")));
        Assert.NotEmpty(check.Check(Fetch("""{"vectors": {"a": {"id": "a", "values": ["x"]}}, "namespace": ""}""")));
        Assert.NotEmpty(check.Check(new ContractExchange("POST", "/vectors/upsert")
        {
            RequestContentType = "application/json",
            RequestBody = """{"vectors": [{"id": "a", "values": []}]}"""u8.ToArray(),
        }));
    }
}

internal static class PineconeContractTestExtensions
{
    public static async Task<List<VectorRecord>> ReadAllAsync(this IAsyncEnumerable<VectorRecord> source)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in source) list.Add(r);
        return list;
    }
}
