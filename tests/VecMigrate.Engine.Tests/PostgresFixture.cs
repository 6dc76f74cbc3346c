using VecMigrate.Testing;

namespace VecMigrate.Engine.Tests;

/// <summary>One Postgres cluster for all tests of a collection; each test makes its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public Task<string> NewDatabaseAsync() => Server.CreateDatabaseAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
