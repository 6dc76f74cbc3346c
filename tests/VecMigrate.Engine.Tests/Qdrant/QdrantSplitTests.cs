using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>A Qdrant collection split into id ranges (integers, then UUIDs): every split reads each point once, and lanes copy it exactly.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QdrantSplitTests(PostgresFixture pg) : IDisposable
{
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose() => _transport.Dispose();

    public static TheoryData<int, int, int> Splits => new()
    {
        { 0, 0, 3 }, { 1, 0, 4 }, { 3, 2, 8 }, { 700, 300, 4 }, { 0, 500, 3 }, { 12000, 0, 5 },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Every_split_reads_each_point_exactly_once(int integers, int uuids, int partitions)
    {
        await using var server = await QdrantStandIn.StartAsync(contracts: Testing.Contracts.VendorContracts.Load().QdrantCheck());
        var name = NewCollectionName();
        server.CreateCollection(name, new QdrantStandInVector("", 2, "Dot"));
        var rng = new Random(integers + uuids * 3 + partitions);
        var ids = Enumerable.Range(0, integers).Select(_ => PointId.FromUnsigned((ulong)rng.NextInt64(0, long.MaxValue) * 2))
            .Concat(Enumerable.Range(0, uuids).Select(i => PointId.FromUuid(Uuid((byte)rng.Next(256), i)))).Distinct().ToList();
        server.Seed(name, ids.Select(id => Dense(id, [1, 2])));
        var whole = QdrantSource.AsMigrationSource(new QdrantClient(server.BaseAddress, null, _transport), new QdrantReadOptions(name) { PageSize = 77 });

        var bounds = await whole.Split!(partitions, CancellationToken.None);
        Assert.Equal(partitions, bounds.Count);
        var read = new List<PointId>();
        var sizes = new List<int>();
        foreach (var b in bounds)
        {
            var part = whole.Narrow!(b);
            Assert.Contains(" ids ", part.Description);
            var records = await part.Read(null).ToListAsync();
            sizes.Add(records.Count);
            read.AddRange(records.Select(r => r.Id));
        }
        Assert.Equal(ids.Order(), read.Order()); // each once
        if (ids.Count >= partitions * 10) Assert.All(sizes, s => Assert.InRange(s, 1, 2 * ids.Count / partitions + 1));
        // A partition resumed after one of its points reads exactly the rest of it.
        var middle = whole.Narrow!(bounds[0]);
        var first = await middle.Read(null).ToListAsync();
        if (first.Count > 2) Assert.Equal(first.Skip(2).Select(r => r.Id), (await middle.Read(first[1].Position).ToListAsync()).Select(r => r.Id));
        server.Contracts!.EnsureNoViolations();
    }

    [Fact]
    public async Task Three_lanes_copy_a_collection_into_Postgres_exactly()
    {
        await using var server = await QdrantStandIn.StartAsync();
        var name = NewCollectionName();
        server.CreateCollection(name, new QdrantStandInVector("", 3, "Dot"));
        var random = new Random(4);
        server.Seed(name, Enumerable.Range(0, 2500).Select(i => Dense(i % 5 == 0 ? PointId.FromUuid(Uuid(7, i)) : PointId.FromUnsigned((ulong)i * 13),
            RandomVector(random, 3), $$"""{"i":{{i}}}""")));
        var cs = await pg.NewDatabaseAsync();
        MigrationSource Source() => QdrantSource.AsMigrationSource(new QdrantClient(server.BaseAddress, null, _transport), new QdrantReadOptions(name) { PageSize = 100 });
        var summary = await PartitionedMigration.RunAsync(Source(), () => new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "dst", BatchSize = 200 }),
            new PgPartitionLedger(cs), new PartitionedMigrationOptions { Checkpoint = "q", Resume = true, Lanes = 3 });
        Assert.True(summary.Completed);
        Assert.Equal(2500, summary.RecordsWritten);
        RecordAssert.SameSet(await Source().Read(null).ToListAsync(),
            await PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "dst" }).Read(null).ToListAsync());
    }
}
