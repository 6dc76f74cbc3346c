using System.Data.Common;
using System.Globalization;
using Npgsql;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// Where and as whom to connect to Postgres. The password is reachable only through
/// <see cref="RevealConnectionString"/> and <see cref="Password"/>; every printable form
/// (<see cref="Description"/>, <see cref="ToString"/>) leaves it out.
/// </summary>
public sealed class PgConnectionSettings
{
    private readonly string _connectionString;

    internal PgConnectionSettings(string connectionString, string host, int port, string database, string userName, ApiSecret? password)
    {
        _connectionString = connectionString;
        Host = host;
        Port = port;
        Database = database;
        UserName = userName;
        Password = password;
    }

    /// <summary>The host (or comma-separated hosts) connected to.</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>The database; Postgres's own default, the user name, when none was given.</summary>
    public string Database { get; }

    /// <summary>The user connected as, as Npgsql will choose it (given, PGUSER, or the OS user).</summary>
    public string UserName { get; }

    /// <summary>The password from the connection string or credential; null when Npgsql will find one itself (PGPASSWORD, a pgpass file) or none is needed.</summary>
    public ApiSecret? Password { get; }

    /// <summary>Where a Microsoft Entra ID token for the password comes from; null for a password (or none).</summary>
    public PgEntraToken? EntraToken { get; init; }

    /// <summary>"host:port/database as user", for messages and logs.</summary>
    public string Description => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}/{Database} as {UserName}")
        + (EntraToken is { } t ? $" (Entra ID token: {t.Describe()})" : "");

    /// <summary>The Npgsql connection string, password included: for opening connections only.</summary>
    public string RevealConnectionString() => _connectionString;

    public override string ToString() => Description;
}

/// <summary>
/// Builds <see cref="PgConnectionSettings"/> from what a user gives: a connection string (Npgsql
/// key=value, or a <c>postgres://</c> URI as cloud consoles show them), a user and password that
/// win over the string's, and the libpq environment variables for what is still missing.
/// </summary>
/// <remarks>
/// Npgsql 9 reads PGUSER, PGPASSWORD and PGPASSFILE itself but not PGHOST, PGPORT or PGDATABASE
/// (its PostgresEnvironment has no such entries); those are filled in here, as libpq would, so that
/// the PG* variables alone describe a server, as they do for psql.
/// </remarks>
public static class PgConnectionFactory
{
    /// <summary>The port Postgres listens on unless told otherwise.</summary>
    public const int DefaultPort = 5432;

    private static readonly Dictionary<string, string> UriParameterKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    /// <param name="connectionString">Npgsql key=value text or a postgres:// URI; null or empty to rely on the environment.</param>
    /// <param name="userName">Overrides the connection string's user (from a credential).</param>
    /// <param name="password">Overrides the connection string's password (from a credential).</param>
    /// <param name="environment">Reads environment variables; the process environment by default.</param>
    /// <exception cref="VecMigrateException">InvalidArgument: the string cannot be read, or no host is known. The message never holds a value from the string.</exception>
    /// <param name="azure">A Microsoft Entra ID token as the password (no password may be given then).</param>
    /// <param name="azureClientId">A user-assigned managed identity's client id, with <paramref name="azure"/>.</param>
    public static PgConnectionSettings Create(
        string? connectionString, string? userName = null, ApiSecret? password = null, Func<string, string?>? environment = null,
        PgAzureAuthentication azure = PgAzureAuthentication.None, string? azureClientId = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;

        var (builder, portGiven) = Parse(connectionString);
        if (!string.IsNullOrEmpty(userName)) builder.Username = userName;
        if (password is not null) builder.Password = password.Reveal();

        if (string.IsNullOrEmpty(builder.Host))
        {
            builder.Host = Env("PGHOST") ?? throw Invalid("PgConnectionHostMissing",
                "No Postgres host is known: give -ConnectionString with Host=…, or set PGHOST.");
        }
        // (Npgsql's builder reports every keyword it knows as present, so whether the port was given is tracked here.)
        if (!portGiven && Env("PGPORT") is { } port)
        {
            builder.Port = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and <= 65535
                ? number
                : throw Invalid("PgConnectionPortInvalid", "PGPORT is not a port number.");
        }
        if (string.IsNullOrEmpty(builder.Database) && Env("PGDATABASE") is { } database) builder.Database = database;

        var user = builder.Username is { Length: > 0 } given ? given : Env("PGUSER") ?? Environment.UserName;
        var secret = password ?? (string.IsNullOrEmpty(builder.Password) ? null : new ApiSecret(builder.Password));
        if (azure == PgAzureAuthentication.None)
        {
            if (azureClientId is not null) throw Invalid("PgAzureClientIdAlone", "-AzureClientId names the managed identity of -AzureAuthentication; give both, or neither.");
            return new PgConnectionSettings(
                builder.ConnectionString, builder.Host!, builder.Port, builder.Database is { Length: > 0 } db ? db : user, user, secret);
        }
        if (secret is not null)
        {
            throw Invalid("PgAzurePasswordGiven",
                "With -AzureAuthentication the password is a Microsoft Entra ID token: give the role's name (Username= in the connection string, or -Credential with an empty password), no password.");
        }
        // The role and user name must be given: the token is the identity's, the role is what Postgres knows it as.
        if (string.IsNullOrEmpty(builder.Username)) builder.Username = user;
        var token = new PgEntraToken(azure, azureClientId);
        var cs = builder.ConnectionString;
        PgDataSources.UseEntraToken(cs, token);
        return new PgConnectionSettings(cs, builder.Host!, builder.Port, builder.Database is { Length: > 0 } d ? d : user, user, null)
        {
            EntraToken = token,
        };
    }

    private static (NpgsqlConnectionStringBuilder Builder, bool PortGiven) Parse(string? text)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        if (string.IsNullOrWhiteSpace(text)) return (builder, false);
        text = text.Trim();
        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return (builder, ParseUri(text, builder));
        }

        // The generic parser first: its errors say where the syntax breaks, Npgsql's may quote the text.
        var pairs = new DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            throw Invalid("PgConnectionStringInvalid",
                "The Postgres connection string is not a list of key=value pairs separated by ';' (check quoting).");
        }
        foreach (string key in pairs.Keys)
        {
            Set(builder, key, pairs[key]);
        }
        return (builder, pairs.ContainsKey("Port"));
    }

    // Returns whether the URI gave a port.
    private static bool ParseUri(string text, NpgsqlConnectionStringBuilder builder)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Invalid("PgConnectionStringInvalid", "The Postgres connection URI is not of the form postgres://user:password@host:port/database.");
        }
        builder.Host = uri.DnsSafeHost;
        if (uri.Port > 0) builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            var user = colon < 0 ? uri.UserInfo : uri.UserInfo[..colon];
            if (user.Length > 0) builder.Username = Uri.UnescapeDataString(user);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (UriParameterKeywords.TryGetValue(key, out var keyword))
            {
                // libpq writes modes with hyphens (verify-full); Npgsql's names have none (VerifyFull).
                if (keyword == "SSL Mode") value = value.Replace("-", "", StringComparison.Ordinal);
                key = keyword;
            }
            Set(builder, key, value);
        }
        return uri.Port > 0;
    }

    private static void Set(NpgsqlConnectionStringBuilder builder, string key, object? value)
    {
        try
        {
            builder[key] = value;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Name the keyword, never the value: it may be the password.
            throw Invalid("PgConnectionStringInvalid", $"The Postgres connection string's '{key}' is not a keyword Npgsql knows, or its value is not valid for it.");
        }
    }

    private static VecMigrateException Invalid(string errorId, string message) =>
        new(FailureKind.InvalidArgument, errorId, message);
}
