using System.Text.Json.Nodes;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Milvus;

/// <summary>A Milvus collection split into primary-key ranges: every split reads each entity exactly once, and lanes copy it exactly.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MilvusSplitTests(PostgresFixture pg)
{
    private static void Seed(MilvusStandIn m, string name, IReadOnlyList<object> keys)
    {
        var isInt = keys.Count == 0 || keys[0] is long;
        m.AddCollection(name, [
            new MilvusStandInField("pk", isInt ? "Int64" : "VarChar", true, false, false, null, isInt ? null : 200, null, null),
            new MilvusStandInField("vector", "FloatVector", false, false, false, 2, null, null, null),
        ]);
        m.AddRows(name, keys.Select((k, i) => new JsonObject
        {
            ["pk"] = k is long n ? JsonValue.Create(n) : JsonValue.Create((string)k),
            ["vector"] = new JsonArray(i, 0.5f),
        }));
    }

    public static TheoryData<string, int, int> Splits => new()
    {
        { "int", 0, 3 }, { "int", 1, 4 }, { "int", 5, 8 }, { "int", 1000, 4 }, { "skewed", 2000, 7 }, { "text", 600, 5 }, { "int", 40000, 3 },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Every_split_reads_each_entity_exactly_once(string kind, int count, int partitions)
    {
        var rng = new Random(count * 7 + partitions);
        var keys = kind switch
        {
            "text" => Enumerable.Range(0, count).Select(i => (object)$"{"aBz_Ä-é"[rng.Next(7)]}{rng.Next(100000)}-{i}").ToList(),
            "skewed" => Enumerable.Range(1, count).Select(i => (object)(i % 10 == 0 ? 1_000_000_000_000L + i * 7919L : (long)i)).ToList(),
            _ => Enumerable.Range(0, count).Select(_ => (object)rng.NextInt64(0, long.MaxValue)).Distinct().ToList(),
        };
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        Seed(m, "c", keys);
        var whole = MilvusSource.AsMigrationSource(client, new MilvusReadOptions("c") { PageSize = 97 });
        var bounds = await whole.Split!(partitions, CancellationToken.None);
        Assert.Equal(partitions, bounds.Count);

        var read = new List<string>();
        foreach (var b in bounds)
        {
            var part = whole.Narrow!(b);
            Assert.Contains("keys ", part.Description); // the bounds are part of what a checkpoint records
            read.AddRange((await part.Read(null).ToListAsync()).Select(r => r.Id.ToString()));
        }
        var expected = keys.Select(k => k.ToString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, read.Order(StringComparer.Ordinal)); // each once: none lost, none twice
        if (count >= partitions * 10)
        {
            // Balanced by count: no partition more than twice its share.
            var sizes = new List<int>();
            foreach (var b in bounds) sizes.Add((await whole.Narrow!(b).Read(null).ToListAsync()).Count);
            Assert.All(sizes, s => Assert.InRange(s, 1, 2 * count / partitions + 1));
        }
    }

    [Fact]
    public async Task Three_lanes_copy_a_collection_into_Postgres_exactly_and_resume_to_nothing()
    {
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        ModuleTestData.SeedMilvusDocs(m);
        var cs = await pg.NewDatabaseAsync();
        MigrationSource Source() => MilvusSource.AsMigrationSource(client, new MilvusReadOptions("docs") { PageSize = 40 });
        Task<MigrationSummary> RunAsync() => PartitionedMigration.RunAsync(Source(), () => new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs", BatchSize = 50 }),
            new PgPartitionLedger(cs), new PartitionedMigrationOptions { Checkpoint = "m", Resume = true, Lanes = 3 });

        var summary = await RunAsync();
        Assert.True(summary.Completed);
        Assert.Equal((3, 300L), (summary.PartitionCount, summary.RecordsWritten));
        RecordAssert.SameSet(await Source().Read(null).ToListAsync(), await PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs" }).Read(null).ToListAsync());
        Assert.True((await RunAsync()).AlreadyComplete);
    }
}
