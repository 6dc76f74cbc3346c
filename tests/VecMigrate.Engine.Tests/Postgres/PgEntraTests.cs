using System.Runtime.CompilerServices;
using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>
/// Microsoft Entra ID tokens as the Postgres password (-AzureAuthentication ManagedIdentity), through Azure.Identity's
/// managed identity against a loopback token endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER, as in Azure Automation), into
/// the real test Postgres, where the role authenticates with scram-sha-256 and its only password is the newest token.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PgEntraTests(PostgresFixture pg) : IAsyncLifetime
{
    private ManagedIdentityStandIn _identity = null!;
    private IDisposable _environment = null!;
    private string? _savedRefresh;

    public async Task InitializeAsync()
    {
        _identity = await ManagedIdentityStandIn.StartAsync();
        _environment = _identity.UseInEnvironment();
        _savedRefresh = Environment.GetEnvironmentVariable("VECMIGRATE_ENTRA_REFRESH_SECONDS");
        Environment.SetEnvironmentVariable("VECMIGRATE_ENTRA_REFRESH_SECONDS", "1");
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("VECMIGRATE_ENTRA_REFRESH_SECONDS", _savedRefresh);
        _environment.Dispose();
        await _identity.DisposeAsync();
    }

    private async Task<string> RoleAsync()
    {
        var role = "mi_" + Guid.NewGuid().ToString("N")[..8];
        await pg.Server.CreatePasswordRoleAsync(role);
        return role;
    }

    /// <summary>Each token the endpoint issues becomes the role's only password: the server refuses the one before.</summary>
    private void RotatePasswordOf(string role) => _identity.Issued = async (_, _, token) =>
    {
        await using var c = new NpgsqlConnection(pg.Server.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"ALTER ROLE \"{role}\" PASSWORD '{token}'", c);
        await cmd.ExecuteNonQueryAsync();
    };

    private static string AsRole(string cs, string role) => new NpgsqlConnectionStringBuilder(cs) { Username = role, Password = null }.ConnectionString;

    private static readonly SourceSchema Dim4 = PgReadBack.Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 4, DistanceMetric.Cosine));

    /// <summary>Numbered records, read slowly (a pause every 100), resumable after any id.</summary>
    private static async IAsyncEnumerable<VectorRecord> Slowly(string? after, int count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var start = after is null ? 1 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture) + 1;
        for (var i = start; i <= count; i++)
        {
            if (i % 100 == 0) await Task.Delay(120, ct);
            yield return new VectorRecord((ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1, 2, 3]) }, JsonPayload.FromString($$"""{"n":{{i}}}"""))
            {
                Schema = Dim4,
                Position = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }
    }

    [Fact]
    public async Task A_copy_that_outlives_its_tokens_finishes_exactly_reconnecting_with_the_newest()
    {
        var cs = await pg.NewDatabaseAsync();
        var role = await RoleAsync();
        RotatePasswordOf(role);
        // Azure.Identity renews a token 5 minutes before it expires: tokens of 5 minutes and 4 seconds are renewed every
        // 4 seconds, and each renewal makes the one before useless to the server.
        _identity.TokenLifetime = TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(4);
        var settings = PgConnectionFactory.Create(AsRole(cs, role), azure: PgAzureAuthentication.ManagedIdentity);
        Assert.Contains("Entra ID token: managed identity", settings.Description);

        const int Count = 12_000; // about 15 seconds at the pace of Slowly
        var source = new MigrationSource("slow numbers", after => Slowly(after, Count));
        await using var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = settings.RevealConnectionString(), Table = "t", BatchSize = 500 });
        using var stop = new CancellationTokenSource();
        var kills = 0;
        // Now and then the server drops the role's connections (as a failover would): each reconnect needs the newest token.
        var killer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(3000, stop.Token).ContinueWith(_ => { });
                await using var c = new NpgsqlConnection(pg.Server.ConnectionString);
                await c.OpenAsync();
                await using var cmd = new NpgsqlCommand($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}'", c);
                if ((long)(await cmd.ExecuteScalarAsync())! > 0) Interlocked.Increment(ref kills);
            }
        });
        var summary = await Migration.RunAsync(source, writer, new MigrationOptions
        {
            Checkpoint = "entra", MaxReconnects = 50, ReconnectDelay = TimeSpan.FromMilliseconds(100),
        });
        await stop.CancelAsync();
        await killer;

        Assert.True(summary.Completed);
        Assert.True(summary.Reconnects >= 2, $"{summary.Reconnects} reconnect(s)");
        Assert.True(kills >= 2);
        Assert.True(_identity.TokensIssued >= 3, $"{_identity.TokensIssued} token(s)");
        Assert.All(_identity.Resources, r => Assert.Equal("https://ossrdbms-aad.database.windows.net", r.TrimEnd('/')));
        Assert.Equal(Count, await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT count(*) FROM t"));
        Assert.Equal(Count, await PgWriteModesTests.ScalarAsync<long>(cs, "SELECT count(DISTINCT id) FROM t"));

        // The first token is dead: the server takes only the newest.
        var first = new NpgsqlConnectionStringBuilder(cs) { Username = role, Password = _identity.Tokens[0] }.ConnectionString;
        await using var old = new NpgsqlConnection(first);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => old.OpenAsync());
        Assert.Equal("28P01", refused.SqlState);
    }

    [Fact]
    public async Task A_token_the_server_refuses_is_a_clear_error_naming_role_and_server_and_never_the_token()
    {
        var cs = await pg.NewDatabaseAsync();
        var role = await RoleAsync();
        _identity.Issued = null; // tokens are issued, but the role never gets them as its password
        var clientId = Guid.NewGuid().ToString();
        var settings = PgConnectionFactory.Create(AsRole(cs, role), azure: PgAzureAuthentication.ManagedIdentity, azureClientId: clientId);
        await using var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = settings.RevealConnectionString(), Table = "t" });

        var ex = await Assert.ThrowsAsync<VecMigrateException>(async () => await writer.WriteAsync(PgReadBack.Dense(1UL, [1, 2, 3, 4], null, Dim4)));

        Assert.Equal("PgAuthenticationFailed", ex.ErrorId);
        Assert.Contains($"as {role}", ex.Message);
        Assert.Contains($"127.0.0.1:{pg.Server.Port}", ex.Message);
        Assert.Contains("Microsoft Entra ID token of the managed identity (client id " + clientId + ")", ex.Message);
        Assert.Contains("pgaadauth_create_principal", ex.Message);
        Assert.Contains(clientId, _identity.ClientIds); // the user-assigned identity was asked for by its client id
        Assert.NotEmpty(_identity.Tokens);
        foreach (var token in _identity.Tokens) Assert.DoesNotContain(token, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_identity_that_gets_no_token_is_a_clear_error_naming_role_server_and_identity()
    {
        var cs = await pg.NewDatabaseAsync();
        var role = await RoleAsync();
        _identity.FailWith = 403;
        try
        {
            var clientId = Guid.NewGuid().ToString();
            var settings = PgConnectionFactory.Create(AsRole(cs, role), azure: PgAzureAuthentication.ManagedIdentity, azureClientId: clientId);
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PgCheckpointStore.ListAsync(settings.RevealConnectionString()));
            Assert.Equal("PgEntraTokenFailed", ex.ErrorId);
            Assert.Equal(FailureKind.Unauthorized, ex.Kind);
            Assert.Contains($"as role {role}", ex.Message);
            Assert.Contains($"127.0.0.1:{pg.Server.Port}", ex.Message);
            Assert.Contains("managed identity (client id " + clientId + ")", ex.Message);
        }
        finally
        {
            _identity.FailWith = null;
        }
    }

    [Fact]
    public void A_password_with_an_Entra_token_is_refused_and_a_client_id_needs_the_mode()
    {
        var withPassword = Assert.Throws<VecMigrateException>(() =>
            PgConnectionFactory.Create("Host=db.example.com;Username=app;Password=hunter2", azure: PgAzureAuthentication.ManagedIdentity));
        Assert.Equal("PgAzurePasswordGiven", withPassword.ErrorId);
        Assert.DoesNotContain("hunter2", withPassword.Message);
        var alone = Assert.Throws<VecMigrateException>(() => PgConnectionFactory.Create("Host=db.example.com;Username=app", azureClientId: "x"));
        Assert.Equal("PgAzureClientIdAlone", alone.ErrorId);
    }
}
