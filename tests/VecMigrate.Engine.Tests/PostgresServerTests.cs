using Npgsql;

namespace VecMigrate.Engine.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests(PostgresFixture pg)
{
    [Fact]
    public async Task Throwaway_cluster_has_the_real_pgvector_extension()
    {
        var cs = await pg.NewDatabaseAsync();
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", c);
        var version = (string?)await cmd.ExecuteScalarAsync();
        Assert.NotNull(version);
        await using var dist = new NpgsqlCommand("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector", c);
        Assert.Equal(1.0, (double)(await dist.ExecuteScalarAsync())!);
    }
}
