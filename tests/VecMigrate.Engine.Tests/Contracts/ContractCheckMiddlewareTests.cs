using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>The middleware on a tiny Kestrel stand-in: violations are recorded, the client's bytes are untouched.</summary>
public sealed class ContractCheckMiddlewareTests
{
    private const string WrongCollectionInfo = """{"result": {"status": "purple"}, "status": "ok", "time": 0.1}""";
    private const string GoodScrollPage = """{"result": {"points": [{"id": 1, "payload": {"a": 1}}], "next_page_offset": null}, "status": "ok", "time": 0.001}""";

    [ContractFact]
    public async Task Wrong_response_body_is_recorded_and_reaches_the_client_unchanged()
    {
        await using var host = await StandInHost.StartAsync(app =>
            app.MapGet("/collections/{name}", (HttpContext ctx) =>
            {
                ctx.Response.Headers["X-Stand-In"] = "qdrant";
                return Results.Text(WrongCollectionInfo, "application/json");
            }),
            VendorContracts.Load().QdrantCheck());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await client.GetAsync("collections/docs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WrongCollectionInfo, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("qdrant", response.Headers.GetValues("X-Stand-In").Single());
        var violations = host.Contracts!.Violations;
        Assert.NotEmpty(violations);
        Assert.All(violations, v =>
        {
            Assert.Equal("GET", v.Method);
            Assert.Equal("/collections/docs", v.Path);
            Assert.Equal(ContractDirection.Response, v.Direction);
            Assert.Equal(200, v.Status);
        });
        Assert.Contains(violations, v => v.InstancePath == "$.result.status" && v.Message.Contains("\"purple\"", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.InstancePath == "$.result" && v.Message.Contains("\"config\"", StringComparison.Ordinal));
        var thrown = Assert.Throws<ContractViolationException>(host.Contracts.EnsureNoViolations);
        Assert.Contains("GET /collections/docs response 200: $.result.status", thrown.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public async Task Request_body_stays_readable_by_the_stand_in_and_a_good_exchange_records_nothing()
    {
        string? seen = null;
        await using var host = await StandInHost.StartAsync(app =>
            app.MapPost("/collections/{name}/points/scroll", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                seen = await reader.ReadToEndAsync();
                return Results.Text(GoodScrollPage, "application/json");
            }),
            VendorContracts.Load().QdrantCheck());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        const string scroll = """{"limit": 1, "with_payload": true, "with_vector": false}""";

        using var response = await client.PostAsync("collections/docs/points/scroll", new StringContent(scroll, Encoding.UTF8, "application/json"));

        Assert.Equal(scroll, seen);
        Assert.Equal(GoodScrollPage, await response.Content.ReadAsStringAsync());
        host.Contracts!.EnsureNoViolations();
        Assert.Equal(1, host.Contracts.ExchangesChecked);
    }

    [ContractFact]
    public async Task Client_side_faults_are_recorded_as_request_violations()
    {
        await using var host = await StandInHost.StartAsync(app =>
            app.MapPost("/collections/{name}/points/scroll", () => Results.Text(GoodScrollPage, "application/json")),
            VendorContracts.Load().QdrantCheck());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await client.PostAsync("collections/docs/points/scroll?page=2",
            new StringContent("""{"offset": -1}""", Encoding.UTF8, "application/json"));

        Assert.Equal(GoodScrollPage, await response.Content.ReadAsStringAsync());
        var violations = host.Contracts!.Violations;
        // ?page is undocumented; offset -1 breaks the integer branch of ExtendedPointId twice (minimum 0, uint64).
        Assert.Equal(["$.offset", "?page"], violations.Select(v => v.InstancePath).Distinct().Order(StringComparer.Ordinal));
        Assert.All(violations, v => Assert.Equal(ContractDirection.Request, v.Direction));
    }

    [ContractFact]
    public async Task Route_the_document_does_not_have_is_a_violation()
    {
        await using var host = await StandInHost.StartAsync(app =>
            app.MapPost("/collections/{name}/points/export", () => Results.Ok()),
            VendorContracts.Load().QdrantCheck());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await client.PostAsync("collections/docs/points/export", new StringContent("{}", Encoding.UTF8, "application/json"));

        var v = Assert.Single(host.Contracts!.Violations);
        Assert.StartsWith("POST /collections/docs/points/export is not in the document", v.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public async Task Body_written_to_the_pipe_without_a_flush_still_reaches_the_client()
    {
        var body = """{"title": "qdrant - vector search engine", "version": "1.19.0", "commit": null}"""u8.ToArray();
        await using var host = await StandInHost.StartAsync(app =>
            app.MapGet("/", (HttpContext ctx) =>
            {
                ctx.Response.ContentType = "application/json";
                var span = ctx.Response.BodyWriter.GetSpan(body.Length);
                body.CopyTo(span);
                ctx.Response.BodyWriter.Advance(body.Length);
                return Task.CompletedTask;
            }),
            VendorContracts.Load().QdrantCheck());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        var received = await client.GetByteArrayAsync("");

        Assert.Equal(body, received);
        host.Contracts!.EnsureNoViolations();
    }

    [ContractFact]
    public async Task Sampling_checks_the_first_exchanges_then_every_nth()
    {
        await using var host = await StandInHost.StartAsync(app =>
            app.MapGet("/collections/{name}", () => Results.Text(WrongCollectionInfo, "application/json")),
            VendorContracts.Load().QdrantCheck(),
            ContractSampling.Every(3, first: 2));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(WrongCollectionInfo, await client.GetStringAsync("collections/docs"));
        }

        // Exchanges 1 and 2 (the first two), then 3 and 6.
        Assert.Equal(8, host.Contracts!.ExchangesSeen);
        Assert.Equal(4, host.Contracts.ExchangesChecked);
        Assert.Equal(4, host.Contracts.Violations.Count(v => v.InstancePath == "$.result.status"));
    }

    [Fact]
    public async Task Host_without_a_contract_check_has_no_middleware()
    {
        await using var host = await StandInHost.StartAsync(app => app.MapGet("/", () => "hi"));
        Assert.Null(host.Contracts);
    }
}
