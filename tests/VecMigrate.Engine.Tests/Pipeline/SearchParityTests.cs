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
/// Search parity through real pgvector and the Qdrant stand-in (its Query API checked against Qdrant's OpenAPI):
/// 1.0 after an exact migration with exact search, for every metric and in both directions; measurably lower once
/// vectors are damaged; refused at once where a side cannot search.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SearchParityTests(PostgresFixture pg) : IDisposable
{
    private readonly RestTransport _transport = new(FastRetry, TimeSpan.FromSeconds(60));

    public void Dispose() => _transport.Dispose();

    private static Task<QdrantStandIn> StartQdrantAsync() => QdrantStandIn.StartAsync(contracts: VendorContracts.Load().QdrantCheck());

    private QdrantClient Client(QdrantStandIn server) => new(server.BaseAddress, null, _transport);

    /// <summary>A Qdrant collection of <paramref name="count"/> random points copied into a Postgres table; both sides as sources.</summary>
    private async Task<(QdrantStandIn Server, MigrationSource Qdrant, MigrationSource Pg, string Cs)> CopiedAsync(string distance, int count, int dims = 16)
    {
        var server = await StartQdrantAsync();
        server.CreateCollection("docs", new QdrantStandInVector("", dims, distance));
        var random = new Random(42);
        server.Seed("docs", Enumerable.Range(0, count).Select(i => Dense((ulong)i * 7 + 1, RandomVector(random, dims), $$"""{"n":{{i}}}""")), preprocess: true);
        var cs = await pg.NewDatabaseAsync();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
            await writer.WriteThroughRunnerAsync(new QdrantSource(Client(server)).ReadAsync(new QdrantReadOptions("docs")));
        return (server, QdrantSource.AsMigrationSource(Client(server), new QdrantReadOptions("docs")),
            PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs" }), cs);
    }

    [Theory]
    [InlineData("Cosine")]
    [InlineData("Dot")]
    [InlineData("Euclid")]
    [InlineData("Manhattan")]
    public async Task An_exact_migration_from_Qdrant_to_pgvector_has_search_parity_one(string distance)
    {
        var (server, qdrant, pgSide, _) = await CopiedAsync(distance, 1500);
        await using var _ = server;
        var result = await MigrationCheck.RunAsync(qdrant, pgSide, new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 40, TopK = 10 } });

        Assert.True(result.Equal);
        var s = Assert.IsType<SearchParityResult>(result.Search);
        Assert.Equal((40, 10), (s.Queries, s.TopK));
        Assert.Equal(1.0, s.Recall);
        Assert.Equal(1.0, s.MinRecall);
        Assert.StartsWith(distance + ":", s.Metric);
        Assert.NotNull(s.MaxScoreDifference);
        Assert.True(s.MaxScoreDifference < 1e-4, $"largest score difference {s.MaxScoreDifference}");
        Assert.Contains("exact", s.SourceMethod);
        Assert.Contains(distance switch { "Cosine" => "<=>", "Dot" => "<#>", "Euclid" => "<->", _ => "<+>" }, s.TargetMethod);
        Assert.True(server.QueryRequests >= 40);
        server.Contracts!.EnsureNoViolations();
        Assert.True(server.Contracts.ExchangesChecked >= 40);
    }

    [Fact]
    public async Task Damaged_vectors_lower_recall_measurably_and_are_named_as_changed()
    {
        var (server, qdrant, pgSide, cs) = await CopiedAsync("Euclid", 1000);
        await using var _ = server;
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            // A third of the rows get their vector reversed: the same values, in another order.
            await using var cmd = new NpgsqlCommand(
                "UPDATE docs SET embedding = (SELECT array_agg(x ORDER BY o DESC) FROM unnest(embedding::real[]) WITH ORDINALITY AS u(x, o))::vector WHERE id % 3 = 0", conn);
            Assert.True(await cmd.ExecuteNonQueryAsync() > 300);
        }
        var result = await MigrationCheck.RunAsync(qdrant, pgSide, new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 60, TopK = 10 } });

        Assert.False(result.Equal);
        Assert.InRange(result.Changed, 300, 360);
        var s = result.Search!;
        Assert.InRange(s.Recall, 0.2, 0.9);
        Assert.True(s.MinRecall < s.Recall);
        Assert.NotEmpty(s.WorstQueries);
    }

    [Fact]
    public async Task Postgres_text_ids_copied_into_Qdrant_are_found_under_their_UUIDv5_ids()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Objects, "docs", IdKinds.String, [new VectorField("", VectorKind.Dense, 12, DistanceMetric.Cosine)], false, "payload");
        var random = new Random(9);
        var records = Enumerable.Range(0, 800).Select(i => new VectorRecord($"doc-{i:D4}", new Dictionary<string, VectorValue> { [""] = new DenseVector(RandomVector(random, 12)) }, JsonPayload.FromString($$"""{"i":{{i}}}""")) { Schema = schema }).ToList();
        await using (var writer = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "docs" }))
            await writer.WriteThroughRunnerAsync(records.ToAsyncEnumerable());
        await using var server = await StartQdrantAsync();
        var pgOptions = new PgReadOptions { ConnectionString = cs, Table = "docs" };
        await new QdrantSink(Client(server), new QdrantSinkOptions("docs")).WriteThroughRunnerAsync(new PgVectorSource(pgOptions).ReadAsync());

        var result = await MigrationCheck.RunAsync(PgVectorSource.AsMigrationSource(pgOptions), QdrantSource.AsMigrationSource(Client(server), new QdrantReadOptions("docs")),
            new MigrationCheckOptions
            {
                QdrantIds = true, NormalizeDense = true, IgnorePayloadFields = new HashSet<string> { QdrantSinkOptions.DefaultOriginalIdField },
                Search = new SearchParityOptions { Queries = 30, TopK = 15 },
            });

        Assert.True(result.Equal, string.Join("; ", result.Differences));
        Assert.Equal(1.0, result.Search!.Recall);
        // pgvector's cosine of the raw vectors and Qdrant's dot of the normalized ones: the same similarity.
        Assert.True(result.Search.MaxScoreDifference < 1e-5, $"{result.Search.MaxScoreDifference}");
        server.Contracts!.EnsureNoViolations();
    }

    [Fact]
    public async Task Approximate_search_goes_through_the_hnsw_index()
    {
        var (server, qdrant, pgSide, cs) = await CopiedAsync("Cosine", 1200);
        await using var _ = server;
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops); ANALYZE docs", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var result = await MigrationCheck.RunAsync(qdrant, pgSide,
            new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 30, TopK = 10, Approximate = true } });

        var s = result.Search!;
        Assert.Contains("index", s.TargetMethod);
        Assert.Contains("HNSW", s.SourceMethod);
        Assert.InRange(s.Recall, 0.8, 1.0); // HNSW on 1,200 points with ef_search 40 finds nearly all
    }

    [Fact]
    public async Task A_side_that_cannot_search_is_refused_before_anything_is_read()
    {
        var read = 0;
        async IAsyncEnumerable<VectorRecord> Records()
        {
            read++;
            yield return Dense(1UL, [1, 2]);
            await Task.Yield();
        }
        var plain = new MigrationSource("records in memory", _ => Records());
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => MigrationCheck.RunAsync(plain, plain,
            new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 5 } }));
        Assert.Equal("SearchParityUnsupported", ex.ErrorId);
        Assert.Contains("records in memory", ex.Message);
        Assert.Equal(0, read);

        var filtered = QdrantSource.AsMigrationSource(new QdrantClient(new Uri("http://127.0.0.1:9/"), null, _transport), new QdrantReadOptions("docs") { FilterJson = """{"must":[]}""" });
        ex = await Assert.ThrowsAsync<VecMigrateException>(() => MigrationCheck.RunAsync(filtered, plain, new MigrationCheckOptions { Search = new SearchParityOptions { Queries = 5 } }));
        Assert.Contains("-Filter", ex.Message);
    }

    [Fact]
    public void A_neighbour_left_out_is_forgiven_only_when_it_ties_with_the_last_one_returned()
    {
        static SearchAnswer Answer(params (ulong Id, double Score)[] hits) => new(DistanceMetric.Cosine,
            hits.Select(h => new SearchHit(new VectorRecord(h.Id, new Dictionary<string, VectorValue>(), null), h.Score)).ToList(), "test");
        var source = Answer((1, 0.9), (2, 0.8), (3, 0.7));
        Assert.Equal((1.0, 0.0), SearchParity.Compare(source, Answer((1, 0.9), (2, 0.8), (4, 0.7)), VectorDigest.KeyOf, VectorDigest.KeyOf));
        var (recall, difference) = SearchParity.Compare(source, Answer((1, 0.9), (2, 0.8), (4, 0.69)), VectorDigest.KeyOf, VectorDigest.KeyOf);
        Assert.Equal(2.0 / 3, recall, 9);
        Assert.Equal(0.0, difference);
        Assert.Equal(1.0 / 3, SearchParity.Compare(source, Answer((1, 0.85), (5, 0.8), (6, 0.75)), VectorDigest.KeyOf, VectorDigest.KeyOf).Recall, 9);
        Assert.Equal(0.05, SearchParity.Compare(source, Answer((1, 0.85), (5, 0.8), (6, 0.75)), VectorDigest.KeyOf, VectorDigest.KeyOf).ScoreDifference!.Value, 9);
    }
}
