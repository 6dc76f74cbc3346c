using System.Diagnostics;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Faults;

/// <summary>
/// The Pinecone source through injected faults on the data plane (where the 2026-04 document allows 4XX/5XX
/// answers): transient ones are retried and logged, permanent ones fail at once.
/// </summary>
public sealed class PineconeFaultTests : IAsyncLifetime
{
    private const int Count = 450;
    private PineconeStandIn _standIn = null!;
    private readonly CollectingLogger _logs = new();

    public async Task InitializeAsync()
    {
        _standIn = await PineconeStandIn.StartAsync();
        var index = await _standIn.CreateIndexAsync("faulty", 8);
        var rng = new Random(8);
        for (var i = 0; i < Count; i++)
        {
            index.Seed(i % 3 == 0 ? "" : "ns1", $"doc-{i:D4}", Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble()).ToArray(), metadataJson: $$"""{"i":{{i}}}""");
        }
    }

    public async Task DisposeAsync() => await _standIn.DisposeAsync();

    private (PineconeSource Source, RestTransport Transport) Source(TimeSpan? timeout = null, int attempts = 5, string? apiKey = null)
    {
        var transport = new RestTransport(new RetryPolicy
        {
            MaxAttempts = attempts,
            BaseDelay = TimeSpan.FromMilliseconds(2),
            MaxDelay = TimeSpan.FromMilliseconds(10),
        }, timeout ?? TimeSpan.FromSeconds(30), _logs);
        var client = new PineconeClient(new ApiSecret(apiKey ?? _standIn.ApiKey), transport, new PineconeClientOptions
        {
            ControlPlaneUrl = _standIn.ControlPlaneUrl,
            DataPlaneScheme = "http",
        });
        return (new PineconeSource(client, new PineconeSourceOptions { IndexName = "faulty" }), transport);
    }

    private static async Task<List<VectorRecord>> ReadAllAsync(PineconeSource source)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in source.ReadAsync(new PineconeReadOptions { PageSize = 50 })) list.Add(r);
        return list;
    }

    private static void AssertAll(List<VectorRecord> read)
    {
        Assert.Equal(Count, read.Count);
        Assert.Equal(Count, read.Select(r => (r.Namespace, r.Id)).Distinct().Count());
    }

    private int DataRequests(string path) => _standIn.Requests.Count(r => r.Path == path);

    [Fact]
    public async Task A_burst_of_429s_on_fetch_is_waited_out_as_Retry_After_says()
    {
        var (source, transport) = Source();
        using var _ = transport;
        _standIn.FailNext(2, 429, TimeSpan.FromSeconds(1), "/vectors/fetch");
        var clock = Stopwatch.StartNew();
        AssertAll(await ReadAllAsync(source));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {clock.Elapsed}");
        Assert.Equal(2, _logs.Lines.Count(l => l.Text.Contains("HTTP 429; attempt", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Bursts_of_503_on_list_are_retried()
    {
        var (source, transport) = Source();
        using var _ = transport;
        _standIn.FailNext(3, 503, pathPrefix: "/vectors/list");
        AssertAll(await ReadAllAsync(source));
        Assert.Equal(0, _standIn.PendingFailures);
        Assert.Equal(3, _logs.Lines.Count(l => l.Text.Contains("HTTP 503; attempt", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("/vectors/fetch", 0.5)]
    [InlineData("/vectors/fetch", 0.99)]
    [InlineData("/vectors/list", 0.3)]
    [InlineData("/describe_index_stats", 0.5)]
    public async Task A_connection_cut_in_the_middle_of_an_answer_is_retried_inside_the_transport(string path, double at)
    {
        var (source, transport) = Source();
        using var _ = transport;
        var before = DataRequests(path);
        _standIn.CutNext(2, at, path);
        AssertAll(await ReadAllAsync(source));
        Assert.Equal(0, _standIn.PendingFailures);
        Assert.Equal(2, _logs.Count(1001));
        Assert.True(DataRequests(path) - before >= 3);
    }

    [Fact]
    public async Task An_answer_slower_than_the_timeout_is_abandoned_and_asked_again()
    {
        var (source, transport) = Source(timeout: TimeSpan.FromMilliseconds(400));
        using var _ = transport;
        _standIn.SlowNext(2, TimeSpan.FromSeconds(3), "/vectors/fetch");
        var clock = Stopwatch.StartNew();
        AssertAll(await ReadAllAsync(source));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"waited for the slow answer: {clock.Elapsed}");
        Assert.Equal(2, _logs.Lines.Count(l => l.Text.Contains("timed out; attempt", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_refused_api_key_fails_at_once_without_retries()
    {
        var (source, transport) = Source(apiKey: "pcsk_wrong_key");
        using var _ = transport;
        var before = _standIn.Requests.Count;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(source));
        Assert.Equal(PineconeErrorIds.Unauthorized, ex.ErrorId);
        Assert.Equal(1, _standIn.Requests.Count - before);
        Assert.Equal(0, _logs.Count(1001));
    }

    [Fact]
    public async Task A_missing_index_fails_at_once_without_retries()
    {
        var (_, transport) = Source();
        using var __ = transport;
        var client = new PineconeClient(new ApiSecret(_standIn.ApiKey), transport, new PineconeClientOptions { ControlPlaneUrl = _standIn.ControlPlaneUrl, DataPlaneScheme = "http" });
        var before = _standIn.Requests.Count;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            ReadAllAsync(new PineconeSource(client, new PineconeSourceOptions { IndexName = "no-such-index" })));
        Assert.Equal(PineconeErrorIds.IndexNotFound, ex.ErrorId);
        Assert.Equal(1, _standIn.Requests.Count - before);
        Assert.Equal(0, _logs.Count(1001));
    }
}
