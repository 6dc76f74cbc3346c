using System.Diagnostics;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Faults;

/// <summary>
/// The Qdrant source through the faults a network and a busy server bring: each transient one is retried (and
/// logged), each permanent one fails at once.
/// </summary>
public sealed class QdrantFaultTests : IAsyncLifetime
{
    private const string Collection = "faulty";
    private QdrantStandIn _server = null!;
    private List<VectorRecord> _records = null!;
    private readonly CollectingLogger _logs = new();

    public async Task InitializeAsync()
    {
        _server = await QdrantStandIn.StartAsync();
        _server.CreateCollection(Collection, new QdrantStandInVector("", 48, "Dot"));
        var rng = new Random(48);
        _records = Enumerable.Range(0, 1200).Select(i => Dense((ulong)i * 7, RandomVector(rng, 48), $$"""{"n":{{i}}}""")).ToList();
        _server.Seed(Collection, _records);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private RestTransport Transport(TimeSpan? timeout = null, int attempts = 5) => new(new RetryPolicy
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(20),
    }, timeout ?? TimeSpan.FromSeconds(30), _logs);

    private async Task<List<VectorRecord>> ReadAllAsync(RestTransport transport, string collection = Collection, string? apiKey = null)
    {
        using var client = new QdrantClient(_server.BaseAddress, apiKey is null ? null : new ApiSecret(apiKey), transport);
        return await new QdrantSource(client).ReadAsync(new QdrantReadOptions(collection) { PageSize = 200 }).ToListAsync();
    }

    [Fact]
    public async Task A_burst_of_429s_is_waited_out_as_Retry_After_says_and_each_retry_is_logged()
    {
        using var transport = Transport();
        _server.Faults.FailNext(2, 429, TimeSpan.FromSeconds(1), "/points/scroll");
        var clock = Stopwatch.StartNew();
        var read = await ReadAllAsync(transport);
        clock.Stop();
        RecordAssert.SameSet(_records, read);
        // The policy's own waits are 5-20 ms: only Retry-After makes two retries take two seconds.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {clock.Elapsed}");
        Assert.Equal(2, _logs.Count(1001));
        Assert.Contains("HTTP 429; attempt 1 of 5, retrying in 1000 ms", _logs.AllText);
    }

    [Fact]
    public async Task Bursts_of_503_are_retried_with_backoff_until_the_answer_comes()
    {
        using var transport = Transport();
        _server.Faults.FailNext(4, 503, pathEndsWith: "/points/scroll");
        RecordAssert.SameSet(_records, await ReadAllAsync(transport));
        Assert.Equal(4, _server.Faults.Injected);
        Assert.Equal(4, _logs.Lines.Count(l => l.Text.Contains("HTTP 503", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.97)]
    public async Task A_connection_cut_in_the_middle_of_a_scroll_answer_is_asked_again(double at)
    {
        using var transport = Transport();
        // The first pages come whole; the next two answers break off part-way through their bodies.
        var first = true;
        var read = new List<VectorRecord>();
        using var client = new QdrantClient(_server.BaseAddress, null, transport);
        await foreach (var r in new QdrantSource(client).ReadAsync(new QdrantReadOptions(Collection) { PageSize = 200 }))
        {
            if (first)
            {
                first = false;
                _server.Faults.CutNext(2, at, "/points/scroll");
            }
            read.Add(r);
        }
        RecordAssert.SameSet(_records, read);
        Assert.Equal(2, _server.Faults.Injected);
        // Two retries, one per cut: most cuts show as an answer that broke off while read; on a loaded machine the reset
        // can overtake the headers, and the cut shows as a connection that ended before the answer (retried alike).
        Assert.Equal(2, _logs.Lines.Count(l => l.Id.Id == 1001));
    }

    [Fact]
    public async Task An_answer_slower_than_the_timeout_is_abandoned_and_asked_again()
    {
        using var transport = Transport(timeout: TimeSpan.FromMilliseconds(400));
        _server.Faults.SlowNext(2, TimeSpan.FromSeconds(3), "/points/scroll");
        var clock = Stopwatch.StartNew();
        RecordAssert.SameSet(_records, await ReadAllAsync(transport));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"waited for the slow answer: {clock.Elapsed}");
        Assert.Equal(2, _logs.Lines.Count(l => l.Text.Contains("timed out; attempt", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Faults_that_outlast_the_retries_end_the_read_with_a_bounded_number_of_attempts()
    {
        using var transport = Transport(timeout: TimeSpan.FromMilliseconds(300), attempts: 3);
        _server.Faults.SlowNext(3, TimeSpan.FromSeconds(2), "/points/scroll");
        var before = _server.Requests;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(transport));
        Assert.Equal("QdrantTimeout", ex.ErrorId);
        Assert.Equal(FailureKind.Timeout, ex.Kind);
        Assert.Contains("3 attempt(s)", ex.Message);
        Assert.Equal(3 + 1, _server.Requests - before); // the collection once, the scroll three times
    }

    [Fact]
    public async Task Broken_answers_and_transient_statuses_share_one_budget_of_attempts_per_call()
    {
        using var transport = Transport(attempts: 3);
        using var client = new QdrantClient(_server.BaseAddress, null, transport);
        await client.GetCollectionAsync(Collection); // the collection's answer, before the faults
        for (var i = 0; i < 5; i++)
        {
            _server.Faults.FailNext(1, 503, pathEndsWith: "/points/scroll");
            _server.Faults.CutNext(1, 0.5, "/points/scroll");
        }
        var before = _server.Requests;
        await Assert.ThrowsAsync<VecMigrateException>(async () =>
        {
            await foreach (var _ in new QdrantSource(client).ReadAsync(new QdrantReadOptions(Collection) { PageSize = 200 }))
            {
            }
        });
        // One loop: three attempts in all (a retry around the transport's own would make 503, cut, 503, cut, ... six).
        Assert.Equal(3, _server.Requests - before - 1); // less the collection, which the read asks again
    }

    [Fact]
    public async Task A_refused_connection_before_any_answer_fails_in_seconds_naming_the_url()
    {
        // The patient policy (8 attempts, waits up to 30 s) would take about a minute; the first contact's takes seconds.
        using var transport = new RestTransport(RetryPolicy.Default, TimeSpan.FromSeconds(30), _logs);
        var closed = new Uri($"http://127.0.0.1:{ClosedPort()}/");
        using var client = new QdrantClient(closed, null, transport);
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => client.GetCollectionAsync(Collection));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal("QdrantUnreachable", ex.ErrorId);
        Assert.Contains($"cannot reach {closed}collections/{Collection} (3 attempt(s)", ex.Message);
        Assert.Equal(2, _logs.Count(1001)); // each wait was said, as a warning
        Assert.All(_logs.Lines.Where(l => l.Id.Id == 1001), l => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, l.Level));
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed
    }

    [Fact]
    public async Task A_refused_api_key_fails_at_once_without_retries()
    {
        using var transport = Transport();
        _server.ApiKey = "the-right-key";
        var before = _server.Requests;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(transport, apiKey: "a-wrong-key"));
        Assert.Equal("QdrantUnauthorized", ex.ErrorId);
        Assert.Equal(1, _server.Requests - before);
        Assert.Equal(0, _logs.Count(1001));
        Assert.DoesNotContain("a-wrong-key", ex.Message);
    }

    [Fact]
    public async Task A_missing_collection_fails_at_once_without_retries()
    {
        using var transport = Transport();
        var before = _server.Requests;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => ReadAllAsync(transport, "no_such_collection"));
        Assert.Equal("QdrantCollectionNotFound", ex.ErrorId);
        Assert.Equal(1, _server.Requests - before);
        Assert.Equal(0, _logs.Count(1001));
    }
}
