using Npgsql;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// A sample check finds the sampled records on the target by key (Postgres through the key's index, Qdrant with a
/// has_id scroll) and never reads the target whole; what it finds is what a whole read finds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SampleFetchTests(PostgresFixture pg) : IDisposable
{
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose() => _transport.Dispose();

    /// <summary>The side, with its whole reads counted.</summary>
    private static MigrationSource Counted(MigrationSource side, Action read) => new(side.Description, after =>
    {
        read();
        return side.Read(after);
    })
    {
        Fetch = side.Fetch, EstimateCount = side.EstimateCount, Search = side.Search,
    };

    private static async Task ExecAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_sample_of_a_Qdrant_copy_finds_one_percent_damage_in_Postgres_by_key_without_reading_the_table()
    {
        await using var server = await QdrantStandIn.StartAsync(contracts: VendorContracts.Load().QdrantCheck());
        server.CreateCollection("docs", new QdrantStandInVector("", 8, "Dot"));
        var random = new Random(5);
        server.Seed("docs", Enumerable.Range(1, 5000).Select(i => Dense((ulong)i, RandomVector(random, 8), $$"""{"i":{{i}}}""")));
        var client = new QdrantClient(server.BaseAddress, null, _transport);
        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
            await writer.WriteThroughRunnerAsync(new QdrantSource(client).ReadAsync(new QdrantReadOptions("docs")));
        await ExecAsync(cs, "UPDATE docs SET payload = '{\"i\": -1}' WHERE id % 100 = 0; ANALYZE docs");

        var wholeReads = 0;
        var table = Counted(PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs" }), () => wholeReads++);
        var result = await MigrationCheck.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions("docs")), table,
            new MigrationCheckOptions { Sample = 1000, Seed = 3 });

        Assert.Equal(0, wholeReads);
        Assert.False(result.Equal);
        Assert.Equal(1000, result.Sample);
        Assert.Equal(0, result.Missing);
        Assert.InRange(result.Changed, 4, 20); // 1% of 1,000: about 10 (a fixed seed: the same every run)
        Assert.All(result.Differences, d => Assert.Equal(["payload.i"], d.Paths));
        Assert.Equal(5000, result.TargetCount); // the table's own estimate, analyzed
        Assert.Contains("fetched from the target by key", result.Method);

        // What a whole read of the target finds: the same.
        var plain = new MigrationSource(table.Description, table.Read) { EstimateCount = table.EstimateCount };
        var read = await MigrationCheck.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions("docs")), plain,
            new MigrationCheckOptions { Sample = 1000, Seed = 3 });
        Assert.Equal(result.Differences.Select(d => d.ToString()), read.Differences.Select(d => d.ToString()));
        Assert.Contains("read whole", read.Method);
        server.Contracts!.EnsureNoViolations();
    }

    [Fact]
    public async Task Text_ids_copied_into_Qdrant_are_fetched_under_their_UUIDv5_ids_and_a_missing_point_is_named()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, """
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE TABLE docs (id text PRIMARY KEY, embedding vector(3), title text);
            INSERT INTO docs SELECT 'doc-' || i, ARRAY[i, 1, 2]::real[]::vector, 't' || i FROM generate_series(1, 1500) AS i;
            """);
        var pgOptions = new PgReadOptions { ConnectionString = cs, Table = "docs" };
        await using var server = await QdrantStandIn.StartAsync(contracts: VendorContracts.Load().QdrantCheck());
        var client = new QdrantClient(server.BaseAddress, null, _transport);
        await new QdrantSink(client, new QdrantSinkOptions("docs") { Distance = DistanceMetric.Dot }).WriteThroughRunnerAsync(new PgVectorSource(pgOptions).ReadAsync());
        var gone = QdrantPointIds.ToQdrant(PointId.FromString("doc-77"), null);
        server.Delete("docs", gone);

        var wholeReads = 0;
        var qdrant = Counted(QdrantSource.AsMigrationSource(client, new QdrantReadOptions("docs")), () => wholeReads++);
        var result = await MigrationCheck.RunAsync(PgVectorSource.AsMigrationSource(pgOptions), qdrant, new MigrationCheckOptions
        {
            Sample = 1500, QdrantIds = true, IgnorePayloadFields = new HashSet<string> { QdrantSinkOptions.DefaultOriginalIdField },
        });

        Assert.Equal(0, wholeReads);
        Assert.Equal((1L, 0L), (result.Missing, result.Changed));
        Assert.Equal("g:" + gone, Assert.Single(result.Differences).Key);
        Assert.True(server.ScrollRequests >= 2); // one has_id page per thousand sampled keys
        server.Contracts!.EnsureNoViolations();
    }

    [Fact]
    public async Task Postgres_finds_rows_by_every_kind_of_key()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, """
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE TABLE byuuid (id uuid PRIMARY KEY, embedding vector(2));
            INSERT INTO byuuid SELECT md5(i::text)::uuid, ARRAY[i, 0]::real[]::vector FROM generate_series(1, 50) AS i;
            CREATE TABLE byns (namespace text, id text, embedding vector(2), PRIMARY KEY (namespace, id));
            INSERT INTO byns SELECT CASE WHEN i % 2 = 0 THEN '' ELSE 'prod' END, 'k' || (i / 2), ARRAY[i, 1]::real[]::vector FROM generate_series(1, 20) AS i;
            CREATE TABLE bykeys (tenant text, n bigint, embedding vector(2), PRIMARY KEY (tenant, n));
            INSERT INTO bykeys SELECT 't' || (i % 3), i, ARRAY[i, 2]::real[]::vector FROM generate_series(1, 30) AS i;
            """);
        foreach (var table in new[] { "byuuid", "byns", "bykeys" })
        {
            var side = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = table });
            var all = await side.Read(null).ToListAsync();
            var some = all.Where((_, i) => i % 3 == 1).ToList();
            var asked = some.Select(r => new VectorRecord(r.Id, new Dictionary<string, VectorValue>(), null) { Namespace = r.Namespace })
                .Append(new VectorRecord(table == "byuuid" ? PointId.FromUuid(Guid.NewGuid()) : PointId.FromString("""["nope","1"]"""), new Dictionary<string, VectorValue>(), null))
                .ToList();
            var found = await side.Fetch!(asked, CancellationToken.None).ToListAsync();
            RecordAssert.SameSet(some, found);
        }
    }
}
