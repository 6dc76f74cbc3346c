using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Pinecone;

public sealed class PineconeErrorTests
{
    private const string WrongKey = "pcsk_WRONG_7d1e5f_do_not_leak";

    private static void AssertNoKey(string key, VecMigrateException ex, CollectingLogger logs)
    {
        Assert.DoesNotContain(key, ex.ToString(), StringComparison.Ordinal); // message, inner chain, stack
        Assert.DoesNotContain(key, ex.Target ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(key, logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Refused_api_key_raises_PineconeUnauthorized_and_the_key_is_in_no_message(bool byHost, bool plainTextGateway)
    {
        await using var kit = await PineconeTestKit.StartAsync(
            new PineconeStandInOptions { EchoKeyInErrors = true, PlainTextGatewayErrors = plainTextGateway }, apiKey: WrongKey);
        await kit.StandIn.CreateIndexAsync("guarded", 4);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("guarded", byHost)));

        Assert.Equal(PineconeErrorIds.Unauthorized, ex.ErrorId);
        Assert.Equal(FailureKind.Unauthorized, ex.Kind);
        Assert.Contains("401", ex.Message, StringComparison.Ordinal);
        // The server echoed the key into its message (EchoKeyInErrors); the client must have scrubbed it.
        Assert.Contains("(secret)", ex.Message, StringComparison.Ordinal);
        AssertNoKey(WrongKey, ex, kit.Logs);
    }

    [Fact]
    public async Task Retried_calls_log_no_api_key()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("noisy", 2);
        index.Seed("", "a", [1, 2]);
        // Data-plane paths only: the 2026-04 document lists no 429/503 for the control plane's describe_index.
        kit.StandIn.FailNext(2, 429, pathPrefix: "/vectors/list");
        kit.StandIn.FailNext(1, 503, pathPrefix: "/vectors/fetch");

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("noisy"));

        Assert.Single(records);
        Assert.Equal(3, kit.Logs.Count(1001));
        Assert.DoesNotContain(kit.StandIn.ApiKey, kit.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_index_raises_PineconeIndexNotFound_with_the_servers_message()
    {
        await using var kit = await PineconeTestKit.StartAsync();

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Source("nowhere").DescribeAsync());

        Assert.Equal(PineconeErrorIds.IndexNotFound, ex.ErrorId);
        Assert.Equal(FailureKind.NotFound, ex.Kind);
        Assert.Equal("nowhere", ex.Target);
        Assert.Contains("Index nowhere not found.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pod_based_index_raises_PineconeListUnsupported_before_any_list_call()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("legacy", 4, deployment: PineconeStandInDeployment.Pod);
        index.Seed("", "a", [1, 2, 3, 4]);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("legacy")));

        Assert.Equal(PineconeErrorIds.ListUnsupported, ex.ErrorId);
        Assert.Contains("pod-based", ex.Message, StringComparison.Ordinal);
        Assert.Contains("serverless", ex.Message, StringComparison.Ordinal);
        Assert.Contains("supply the ids", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(kit.StandIn.Requests, r => r.Path == "/vectors/list");
    }

    [Theory]
    [InlineData(PineconePodListAnswer.RpcError)]
    [InlineData(PineconePodListAnswer.StringBody)]
    public async Task Pod_based_index_reached_by_host_raises_PineconeListUnsupported(PineconePodListAnswer answer)
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions { PodList = answer });
        var index = await kit.StandIn.CreateIndexAsync("legacy", 4, deployment: PineconeStandInDeployment.Pod);
        index.Seed("", "a", [1, 2, 3, 4]);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("legacy", byHost: true)));

        Assert.Equal(PineconeErrorIds.ListUnsupported, ex.ErrorId);
        Assert.Contains("collection", ex.Message, StringComparison.Ordinal);
        Assert.Single(kit.StandIn.Requests, r => r.Path == "/vectors/list");
    }

    [Fact]
    public async Task Rate_limited_calls_wait_as_Retry_After_says_then_succeed()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("busy", 2);
        for (var i = 0; i < 3; i++) index.Seed("", $"r{i}", [i, i]);
        kit.StandIn.FailNext(2, 429, TimeSpan.FromSeconds(1), "/vectors/fetch");

        var clock = Stopwatch.StartNew();
        var records = await PineconeTestKit.ReadAllAsync(kit.Source("busy"));
        clock.Stop();

        Assert.Equal(3, records.Count);
        Assert.Equal(0, kit.StandIn.PendingFailures);
        // The policy's own backoff is 1-5 ms; only honouring "Retry-After: 1" twice makes this take 2 s.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {clock.Elapsed}");
        Assert.Equal(2, kit.Logs.Count(1001));
        Assert.Contains("HTTP 429", kit.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(3, kit.StandIn.Requests.Count(r => r.Path == "/vectors/fetch"));
    }

    [Fact]
    public async Task Rate_limit_that_never_lifts_raises_PineconeRateLimited_after_the_last_attempt()
    {
        await using var kit = await PineconeTestKit.StartAsync(retry: new RetryPolicy { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1) });
        var index = await kit.StandIn.CreateIndexAsync("capped", 2);
        index.Seed("", "a", [1, 2]);
        kit.StandIn.FailNext(100, 429, pathPrefix: "/vectors/list");

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("capped")));

        Assert.Equal(PineconeErrorIds.RateLimited, ex.ErrorId);
        Assert.Equal(FailureKind.LimitExceeded, ex.Kind);
        Assert.Contains("max requests per second", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, kit.StandIn.Requests.Count(r => r.Path == "/vectors/list"));
    }

    [Fact]
    public async Task Plain_text_429_from_the_gateway_is_retried_and_reported_with_its_text()
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions { PlainTextGatewayErrors = true },
            retry: new RetryPolicy { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1) });
        var index = await kit.StandIn.CreateIndexAsync("gate", 2);
        index.Seed("", "a", [1, 2]);
        kit.StandIn.FailNext(5, 429, pathPrefix: "/describe_index_stats");

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Source("gate", byHost: true).DescribeAsync());

        Assert.Equal(PineconeErrorIds.RateLimited, ex.ErrorId);
        Assert.Contains("Retry later", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_answer_with_a_value_that_is_not_a_number_raises_PineconeInvalidResponse_naming_it()
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions
        {
            Configure = app => app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/vectors/fetch")
                {
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("""{"vectors":{"v1":{"id":"v1","values":[0.5,"oops"]}},"namespace":""}""");
                    return;
                }
                await next(ctx);
            }),
        });
        var index = await kit.StandIn.CreateIndexAsync("broken", 2);
        index.Seed("", "v1", [1, 2]);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("broken")));

        Assert.Equal(PineconeErrorIds.InvalidResponse, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidResponse, ex.Kind);
        Assert.Contains("'values' of record 'v1'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"vectors":{"v1":{"id":"v1","values":[1,2]""", "not valid JSON")]
    [InlineData("""{"vectors":[{"id":"v1"}]}""", "'vectors' is not an object")]
    [InlineData("""{"vectors":{"v1":{"id":"v1","values":[1e39,2]}}}""", "not a finite float32")]
    [InlineData("""{"vectors":{"v1":{"id":"v1","sparseValues":{"indices":[1,2],"values":[1]}}}}""", "2 indices but 1 values")]
    [InlineData("""{"vectors":{"v1":{"id":"v1","sparseValues":{"indices":[-1],"values":[1]}}}}""", "unsigned 32-bit")]
    [InlineData("""{"vectors":{"v1":{"id":"v1","metadata":"text"}}}""", "'metadata' of record 'v1' is not an object")]
    [InlineData("""[1,2]""", "not a JSON object")]
    public async Task Malformed_fetch_answers_raise_PineconeInvalidResponse_saying_what_is_wrong(string body, string expected)
    {
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions
        {
            Configure = app => app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/vectors/fetch")
                {
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync(body);
                    return;
                }
                await next(ctx);
            }),
        });
        var index = await kit.StandIn.CreateIndexAsync("broken", 2);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => kit.Client.FetchAsync(index.Url, "", ["v1"]));

        Assert.Equal(PineconeErrorIds.InvalidResponse, ex.ErrorId);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_token_that_does_not_advance_raises_PineconeInvalidResponse_instead_of_looping()
    {
        var lists = 0;
        await using var kit = await PineconeTestKit.StartAsync(new PineconeStandInOptions
        {
            Configure = app => app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/vectors/list")
                {
                    Interlocked.Increment(ref lists);
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("""{"vectors":[{"id":"a"}],"pagination":{"next":"c2FtZQ=="},"namespace":""}""");
                    return;
                }
                await next(ctx);
            }),
        });
        var index = await kit.StandIn.CreateIndexAsync("stuck", 2);
        index.Seed("", "a", [1, 2]);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PineconeTestKit.ReadAllAsync(kit.Source("stuck")));

        Assert.Equal(PineconeErrorIds.InvalidResponse, ex.ErrorId);
        Assert.Contains("did not advance", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, lists);
    }

    [Fact]
    public async Task Unreachable_index_host_raises_PineconeUnreachable_after_the_retries()
    {
        await using var kit = await PineconeTestKit.StartAsync(retry: new RetryPolicy { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1) });
        var source = new PineconeSource(kit.Client, new PineconeSourceOptions { IndexName = "gone", IndexHost = "127.0.0.1:1" });

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => source.DescribeAsync());

        Assert.Equal("PineconeUnreachable", ex.ErrorId);
        Assert.Equal(FailureKind.Unreachable, ex.Kind);
    }
}
