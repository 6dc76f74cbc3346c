using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// Hosts a vendor stand-in on Kestrel at 127.0.0.1 on a free port. The stand-in maps its routes on
/// the <see cref="WebApplication"/>; middleware added through <paramref name="configure"/> runs first
/// (contract checks, fault injection). Given a <see cref="ContractCheck"/>, every exchange is checked
/// against the vendor's document before anything else runs, and <see cref="Contracts"/> holds what it found.
/// </summary>
public sealed class StandInHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StandInHost(WebApplication app, Uri baseAddress, ContractCheckMiddleware? contracts)
    {
        _app = app;
        BaseAddress = baseAddress;
        Contracts = contracts;
    }

    /// <summary>http://127.0.0.1:PORT/ (with the trailing slash).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The contract checks' findings, when the host was started with a <see cref="ContractCheck"/>.</summary>
    public ContractCheckMiddleware? Contracts { get; }

    /// <param name="configure">Maps the stand-in's routes (and any middleware of its own).</param>
    /// <param name="contracts">Checks every exchange against the vendor's document (null: no checks).</param>
    /// <param name="sampling">Which exchanges to check; all by default.</param>
    /// <param name="protocols">What the listener speaks; HTTP/1.1 and HTTP/2 by default (cleartext HTTP/2 needs
    /// <see cref="HttpProtocols.Http2"/> alone: prior knowledge, as gRPC clients use).</param>
    public static async Task<StandInHost> StartAsync(Action<WebApplication> configure, ContractCheck? contracts = null, ContractSampling? sampling = null,
        HttpProtocols? protocols = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            if (protocols is { } p) o.ConfigureEndpointDefaults(l => l.Protocols = p);
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var checks = contracts is null ? null : app.UseContractCheck(contracts, sampling);
        configure(app);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StandInHost(app, new Uri(address.TrimEnd('/') + "/"), checks);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
