using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// The local token endpoint of a managed identity as Azure App Service and Azure Automation provide it, on loopback:
/// Azure.Identity finds it through the environment variables <c>IDENTITY_ENDPOINT</c> (its url) and
/// <c>IDENTITY_HEADER</c> (a secret the caller sends back in the <c>X-IDENTITY-HEADER</c> header), and asks
/// <c>GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&amp;resource=...[&amp;client_id=...]</c>. The answer, as Microsoft
/// documents the 2019-08-01 protocol ("How to use managed identities for App Service and Azure Functions", REST
/// endpoint reference): JSON with <c>access_token</c>, <c>expires_on</c> (seconds since the epoch, as a string),
/// <c>resource</c>, <c>token_type</c> ("Bearer") and <c>client_id</c>; a missing or wrong header is refused with 400.
/// </summary>
/// <remarks>
/// Tokens are random and short-lived (<see cref="TokenLifetime"/>); <see cref="Issued"/> runs before each is sent
/// (the tests make it the Postgres role's password there, so that the server accepts the current token only).
/// </remarks>
public sealed class ManagedIdentityStandIn : IAsyncDisposable
{
    private readonly StandInHost _host;
    private int _issued;

    private ManagedIdentityStandIn(StandInHost host) => _host = host;

    /// <summary>The value of IDENTITY_HEADER.</summary>
    public string Header { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The value of IDENTITY_ENDPOINT.</summary>
    public Uri Endpoint => new(_host.BaseAddress, "msi/token");

    /// <summary>How long an issued token lasts.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Runs for each token before it is answered (resource, client id or null, token).</summary>
    public Func<string, string?, string, Task>? Issued { get; set; }

    /// <summary>Answers every request with this status (e.g. 403: the identity may not have tokens); null answers normally.</summary>
    public int? FailWith { get; set; }

    /// <summary>Tokens issued so far.</summary>
    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>The resources asked for, in order.</summary>
    public List<string> Resources { get; } = [];

    /// <summary>The client ids asked for (null: the system-assigned identity), in order.</summary>
    public List<string?> ClientIds { get; } = [];

    /// <summary>Every token issued, in order (for tests that check none leaks).</summary>
    public List<string> Tokens { get; } = [];

    public static async Task<ManagedIdentityStandIn> StartAsync()
    {
        ManagedIdentityStandIn? self = null;
        // A typed delegate, so that minimal APIs write the IResult (a lambda taking HttpContext would bind as a RequestDelegate).
        var host = await StandInHost.StartAsync(app => app.MapGet("/msi/token", (Func<HttpContext, Task<IResult>>)(c => self!.TokenAsync(c)))).ConfigureAwait(false);
        self = new ManagedIdentityStandIn(host);
        return self;
    }

    /// <summary>Sets IDENTITY_ENDPOINT and IDENTITY_HEADER for this process (what Azure Automation sets for a job); disposing puts them back.</summary>
    public IDisposable UseInEnvironment()
    {
        var saved = (Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"), Environment.GetEnvironmentVariable("IDENTITY_HEADER"));
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", Endpoint.ToString());
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", Header);
        return new Restore(() =>
        {
            Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", saved.Item1);
            Environment.SetEnvironmentVariable("IDENTITY_HEADER", saved.Item2);
        });
    }

    private async Task<IResult> TokenAsync(HttpContext c)
    {
        var q = c.Request.Query;
        if (c.Request.Headers["X-IDENTITY-HEADER"] != Header)
        {
            return Results.Json(new { statusCode = 400, message = "The request is missing the X-IDENTITY-HEADER header or it is not valid." }, statusCode: 400);
        }
        if (q["api-version"] != "2019-08-01" || string.IsNullOrEmpty(q["resource"]))
        {
            return Results.Json(new { statusCode = 400, message = "api-version 2019-08-01 and a resource are required." }, statusCode: 400);
        }
        if (FailWith is { } status)
        {
            return Results.Json(new { statusCode = status, message = "The identity cannot get tokens for this resource." }, statusCode: status);
        }
        var resource = q["resource"].ToString();
        var clientId = q["client_id"].Count > 0 ? q["client_id"].ToString() : null;
        lock (Resources)
        {
            Resources.Add(resource);
            ClientIds.Add(clientId);
        }
        var token = "eyJ0eXAiOiJKV1Qi." + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        lock (Resources) Tokens.Add(token);
        if (Issued is { } issued) await issued(resource, clientId, token).ConfigureAwait(false);
        Interlocked.Increment(ref _issued);
        var expires = DateTimeOffset.UtcNow.Add(TokenLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return Results.Json(new Dictionary<string, string>
        {
            ["access_token"] = token,
            ["expires_on"] = expires,
            ["resource"] = resource,
            ["token_type"] = "Bearer",
            ["client_id"] = clientId ?? "00000000-0000-0000-0000-00000000a11d",
        });
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
