using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VecMigrate.Testing.StandIns;

/// <summary>
/// Hosts a vendor stand-in on Kestrel at 127.0.0.1 on a free port. The stand-in maps its routes on
/// the <see cref="WebApplication"/>; middleware added through <paramref name="configure"/> runs first
/// (contract checks, fault injection).
/// </summary>
public sealed class StandInHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StandInHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:PORT/ (with the trailing slash).</summary>
    public Uri BaseAddress { get; }

    public static async Task<StandInHost> StartAsync(Action<WebApplication> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        configure(app);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StandInHost(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
