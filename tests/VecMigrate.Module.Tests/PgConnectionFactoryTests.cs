using Npgsql;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Module.Tests;

/// <summary>The engine helper behind -ConnectionString/-Credential (it lives in the engine; the module owns it).</summary>
public class PgConnectionFactoryTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static readonly Func<string, string?> NoEnv = Env();

    [Fact]
    public void A_key_value_string_keeps_its_password_out_of_every_printable_form()
    {
        var settings = PgConnectionFactory.Create("Host=db.internal;Port=6432;Database=vec;Username=bob;Password=hunter22", environment: NoEnv);

        Assert.Equal("db.internal:6432/vec as bob", settings.Description);
        Assert.Equal(settings.Description, settings.ToString());
        Assert.Equal("hunter22", settings.Password!.Reveal());
        Assert.Equal("hunter22", new NpgsqlConnectionStringBuilder(settings.RevealConnectionString()).Password);
    }

    [Fact]
    public void A_credential_wins_over_the_strings_user_and_password()
    {
        var settings = PgConnectionFactory.Create("Host=db;Username=bob;Password=old", "alice", new ApiSecret("new-pass"), NoEnv);
        var built = new NpgsqlConnectionStringBuilder(settings.RevealConnectionString());

        Assert.Equal(("alice", "new-pass"), (built.Username, built.Password));
        Assert.Equal("alice", settings.UserName);
    }

    [Fact]
    public void Without_a_string_PGHOST_PGPORT_and_PGDATABASE_fill_it_and_PGUSER_names_the_user()
    {
        var settings = PgConnectionFactory.Create(null, environment: Env(
            ("PGHOST", "pg.example"), ("PGPORT", "6543"), ("PGDATABASE", "vectors"), ("PGUSER", "etl"), ("PGPASSWORD", "from-env")));
        var built = new NpgsqlConnectionStringBuilder(settings.RevealConnectionString());

        Assert.Equal("pg.example:6543/vectors as etl", settings.Description);
        Assert.Equal(("pg.example", 6543, "vectors"), (built.Host, built.Port, built.Database));
        // Npgsql reads PGUSER and PGPASSWORD itself; they are not copied into the string.
        Assert.Null(built.Password);
        Assert.Null(settings.Password);
    }

    [Fact]
    public void The_string_wins_over_the_environment()
    {
        var settings = PgConnectionFactory.Create("Host=a;Port=1111;Database=d1", environment: Env(("PGHOST", "b"), ("PGPORT", "2222"), ("PGDATABASE", "d2"), ("PGUSER", "u")));
        Assert.Equal("a:1111/d1 as u", settings.Description);
    }

    [Fact]
    public void The_database_defaults_to_the_user_name_as_in_Postgres()
    {
        Assert.Equal("h:5432/bob as bob", PgConnectionFactory.Create("Host=h;Username=bob", environment: NoEnv).Description);
    }

    [Fact]
    public void A_postgres_uri_is_understood_with_escapes_and_libpq_parameters()
    {
        var settings = PgConnectionFactory.Create("postgresql://bob:p%40ss%3Bw0rd@db.example:5433/vec?sslmode=verify-full&application_name=vm", environment: NoEnv);
        var built = new NpgsqlConnectionStringBuilder(settings.RevealConnectionString());

        Assert.Equal("db.example:5433/vec as bob", settings.Description);
        Assert.Equal("p@ss;w0rd", built.Password);
        Assert.Equal(SslMode.VerifyFull, built.SslMode);
        Assert.Equal("vm", built.ApplicationName);
    }

    [Fact]
    public void No_host_anywhere_is_an_invalid_argument_that_says_what_to_give()
    {
        var e = Assert.Throws<VecMigrateException>(() => PgConnectionFactory.Create("Database=x", environment: NoEnv));
        Assert.Equal((FailureKind.InvalidArgument, "PgConnectionHostMissing"), (e.Kind, e.ErrorId));
        Assert.Contains("PGHOST", e.Message);
    }

    [Fact]
    public void A_bad_PGPORT_is_an_invalid_argument()
    {
        var e = Assert.Throws<VecMigrateException>(() => PgConnectionFactory.Create(null, environment: Env(("PGHOST", "h"), ("PGPORT", "sixty"))));
        Assert.Equal("PgConnectionPortInvalid", e.ErrorId);
    }

    [Theory]
    [InlineData("Host=h;Pasword=hunter22", "Pasword")]
    [InlineData("Host=h;Port=hunter22", "Port")]
    [InlineData("Host=h;Password='hunter22", null)]
    [InlineData("postgres://bob:hunter22@/nohost", null)]
    public void An_unreadable_string_is_reported_without_any_of_its_values(string connectionString, string? namedKeyword)
    {
        var e = Assert.Throws<VecMigrateException>(() => PgConnectionFactory.Create(connectionString, environment: NoEnv));

        Assert.Equal((FailureKind.InvalidArgument, "PgConnectionStringInvalid"), (e.Kind, e.ErrorId));
        Assert.DoesNotContain("hunter22", e.ToString());
        Assert.Null(e.InnerException);
        if (namedKeyword is not null) Assert.Contains($"'{namedKeyword}'", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
