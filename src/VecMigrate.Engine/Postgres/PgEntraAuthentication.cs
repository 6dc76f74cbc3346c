using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Identity;
using Npgsql;
using Pgvector.Npgsql;

namespace VecMigrate.Engine.Postgres;

/// <summary>How a Postgres connection authenticates beyond its connection string.</summary>
public enum PgAzureAuthentication
{
    /// <summary>The connection string's password (or PGPASSWORD, a pgpass file, trust).</summary>
    None,

    /// <summary>
    /// A Microsoft Entra ID token of the managed identity the code runs as (Azure Automation, App Service, a VM),
    /// for Azure Database for PostgreSQL, as the password.
    /// </summary>
    ManagedIdentity,

    /// <summary>
    /// A Microsoft Entra ID token from Azure.Identity's DefaultAzureCredential chain (environment, workload identity,
    /// managed identity, Azure CLI, Azure PowerShell, ...), as the password.
    /// </summary>
    Default,
}

/// <summary>
/// Microsoft Entra ID tokens as the password for Azure Database for PostgreSQL, from Azure.Identity. Npgsql's periodic
/// password provider asks for a token in the background at <see cref="RefreshInterval"/> and every connection opened
/// (or opened again after a reconnect) uses the latest, so a copy that lasts longer than a token (about an hour) goes on.
/// Azure.Identity caches a token until shortly before it expires, so the refreshes cost nothing in between.
/// </summary>
public sealed class PgEntraToken
{
    /// <summary>The scope of Azure Database for PostgreSQL's tokens (Microsoft's "ossrdbms-aad" resource).</summary>
    public const string Scope = "https://ossrdbms-aad.database.windows.net/.default";

    private readonly TokenCredential _credential;

    /// <param name="mode">ManagedIdentity or Default.</param>
    /// <param name="clientId">A user-assigned identity's client id; null for the system-assigned one (or the chain's choice).</param>
    public PgEntraToken(PgAzureAuthentication mode, string? clientId)
    {
        Mode = mode;
        ClientId = clientId;
        _credential = mode switch
        {
            PgAzureAuthentication.ManagedIdentity => clientId is null
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)),
            PgAzureAuthentication.Default => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "A token needs ManagedIdentity or Default."),
        };
    }

    public PgAzureAuthentication Mode { get; }

    public string? ClientId { get; }

    /// <summary>
    /// How often Npgsql asks for a token: 4 minutes, inside Azure.Identity's 5-minute margin before a token expires, so
    /// the token a connection opens with always has time left. <c>VECMIGRATE_ENTRA_REFRESH_SECONDS</c> overrides it
    /// (the tests use seconds-long tokens).
    /// </summary>
    public static TimeSpan RefreshInterval =>
        int.TryParse(Environment.GetEnvironmentVariable("VECMIGRATE_ENTRA_REFRESH_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.FromMinutes(4);

    /// <summary>What it is, for messages: never a token.</summary>
    public string Describe() => (Mode == PgAzureAuthentication.ManagedIdentity ? "managed identity" : "DefaultAzureCredential")
        + (ClientId is null ? "" : $" (client id {ClientId})");

    /// <summary>A token for the server <paramref name="server"/> as role <paramref name="role"/> (both for the error only).</summary>
    internal async ValueTask<string> GetAsync(string server, string role, CancellationToken ct)
    {
        try
        {
            var token = await _credential.GetTokenAsync(new TokenRequestContext([Scope]), ct).ConfigureAwait(false);
            return token.Token;
        }
        catch (Exception ex) when (ex is AuthenticationFailedException or CredentialUnavailableException or RequestFailedException)
        {
            // Azure.Identity's messages say what was tried and why it failed; they never hold a token.
            throw new VecMigrateException(FailureKind.Unauthorized, "PgEntraTokenFailed",
                $"Could not get a Microsoft Entra ID token for Azure Database for PostgreSQL at {server} as role {role} ({Describe()}): {ex.Message}",
                server, ex);
        }
    }
}

/// <summary>
/// Every Postgres connection the engine opens comes from here: one Npgsql data source (and so one pool) per connection
/// string, with pgvector's types, and, for a connection string registered with an Entra ID token, Npgsql's periodic
/// password provider. (NpgsqlConnection(connectionString) keeps one pool per string too; a data source is what the
/// password provider needs.)
/// </summary>
public static class PgDataSources
{
    private static readonly ConcurrentDictionary<string, PgEntraToken> Tokens = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> Sources = new(StringComparer.Ordinal);

    /// <summary>A connection (not yet open) for <paramref name="connectionString"/>.</summary>
    public static NpgsqlConnection CreateConnection(string connectionString) =>
        Sources.GetOrAdd(connectionString, cs => new Lazy<NpgsqlDataSource>(() => Build(cs))).Value.CreateConnection();

    /// <summary>
    /// Connections of <paramref name="connectionString"/> authenticate with <paramref name="token"/>'s tokens from now
    /// on (a data source made before for it is replaced).
    /// </summary>
    public static void UseEntraToken(string connectionString, PgEntraToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (Tokens.TryGetValue(connectionString, out var old) && old.Mode == token.Mode && old.ClientId == token.ClientId) return;
        Tokens[connectionString] = token;
        Sources.TryRemove(connectionString, out _);
    }

    /// <summary>The token source registered for <paramref name="connectionString"/>, if any.</summary>
    public static PgEntraToken? EntraTokenFor(string connectionString) => Tokens.GetValueOrDefault(connectionString);

    private static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        if (Tokens.TryGetValue(connectionString, out var token))
        {
            var server = PgConnections.Describe(connectionString);
            var role = new NpgsqlConnectionStringBuilder(connectionString).Username ?? Environment.GetEnvironmentVariable("PGUSER") ?? Environment.UserName;
            // A failed refresh is tried again soon; until one succeeds, opening a connection raises its error.
            builder.UsePeriodicPasswordProvider((_, ct) => token.GetAsync(server, role, ct), PgEntraToken.RefreshInterval, TimeSpan.FromSeconds(5));
        }
        return builder.Build();
    }
}
