using Npgsql;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Pinecone;
using VecMigrate.Engine.Tests.Postgres;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>The sources' record counts that progress shows percent and time left from.</summary>
public sealed class QdrantCountEstimateTests(Qdrant.QdrantStandInFixture fx) : IClassFixture<Qdrant.QdrantStandInFixture>
{
    [Fact]
    public async Task A_whole_collection_is_counted_by_its_points_count_and_a_narrowed_read_is_not()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new Testing.StandIns.QdrantStandInVector("", 4));
        var random = new Random(3);
        fx.Server.Seed(name, Enumerable.Range(0, 1_234).Select(i => Dense((ulong)i, RandomVector(random, 4))));
        var source = new QdrantSource(fx.Client());

        Assert.Equal(1_234, await source.EstimateCountAsync(new QdrantReadOptions(name)));
        Assert.Null(await source.EstimateCountAsync(new QdrantReadOptions(name) { FilterJson = """{"must":[]}""" }));
        Assert.Null(await source.EstimateCountAsync(new QdrantReadOptions(name) { StartAfter = "17" }));
        // A copy counts the whole collection, also when it resumes (the runner knows what earlier runs wrote).
        Assert.Equal(1_234, await QdrantSource.AsMigrationSource(fx.Client(), new QdrantReadOptions(name)).EstimateCountAsync());
    }
}

public sealed class PineconeCountEstimateTests
{
    [Fact]
    public async Task The_namespaces_read_are_counted_from_describe_index_stats()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("counted", 4);
        for (var i = 0; i < 5; i++) index.Seed("", $"d{i}", [i, 1, 2, 3]);
        for (var i = 0; i < 7; i++) index.Seed("alpha", $"a{i}", [i, 1, 2, 3]);
        for (var i = 0; i < 3; i++) index.Seed("beta", $"b{i}", [i, 1, 2, 3]);
        var source = kit.Source("counted");

        Assert.Equal(15, await source.EstimateCountAsync());
        Assert.Equal(10, await source.EstimateCountAsync(new PineconeReadOptions { Namespaces = ["alpha", "beta"] }));
        Assert.Equal(5, await source.EstimateCountAsync(new PineconeReadOptions { Namespaces = [""] }));
        Assert.Null(await source.EstimateCountAsync(new PineconeReadOptions { IdPrefix = "a" }));
        Assert.Null(await source.EstimateCountAsync(new PineconeReadOptions { Ids = ["a1"] }));
        Assert.Equal(7, await source.AsMigrationSource(new PineconeReadOptions { Namespaces = ["alpha"] }).EstimateCountAsync());
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PgCountEstimateTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_table_is_counted_by_the_catalog_once_analyzed_and_not_before()
    {
        var cs = await pg.NewDatabaseAsync();
        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "counted" }))
        {
            for (var i = 0; i < 2_500; i++)
            {
                await w.WriteAsync(new VectorRecord(PointId.FromUnsigned((ulong)i),
                    new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1f]) }, null));
            }
            await w.FlushAsync();
        }
        var options = new PgReadOptions { ConnectionString = cs, Table = "counted" };

        // Never vacuumed or analyzed: the catalog says -1 (unknown), which is no count at all.
        Assert.Null(await new PgVectorSource(options).EstimateCountAsync());

        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var analyze = new NpgsqlCommand("ANALYZE counted", c);
            await analyze.ExecuteNonQueryAsync();
        }
        Assert.Equal(2_500, await new PgVectorSource(options).EstimateCountAsync());
        Assert.Equal(2_500, await PgVectorSource.AsMigrationSource(options).EstimateCountAsync());
        Assert.Null(await new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "counted", Where = "id > 5" }).EstimateCountAsync());
    }
}
