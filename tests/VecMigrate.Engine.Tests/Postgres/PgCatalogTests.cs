using Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>What the Postgres cmdlets show before anything is written: table names for completion, the -WhatIf plan.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgCatalogTests(PostgresFixture pg)
{
    private static readonly SourceSchema Docs = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 3, DistanceMetric.Cosine));

    private static async Task ExecAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Tables_of_a_schema_are_listed_by_name_without_the_checkpoint_table_views_or_partitions()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, """
            CREATE TABLE docs (id int PRIMARY KEY);
            CREATE TABLE "Odd Name" (id int);
            CREATE TABLE vecmigrate_checkpoint (name text);
            CREATE VIEW v AS SELECT 1 AS x;
            CREATE TABLE parted (id int) PARTITION BY RANGE (id);
            CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
            CREATE SCHEMA other; CREATE TABLE other.elsewhere (id int);
            """);
        Assert.Equal(["Odd Name", "docs", "parted"], await PgCatalog.ListTablesAsync(cs));
        Assert.Equal(["elsewhere"], await PgCatalog.ListTablesAsync(cs, "other"));
        Assert.Empty(await PgCatalog.ListTablesAsync(cs, "nope"));
        var down = await Assert.ThrowsAsync<VecMigrateException>(() => PgCatalog.ListTablesAsync("Host=127.0.0.1;Port=1;Username=x;Password=never-shown;Timeout=2"));
        Assert.Equal("PgUnreachable", down.ErrorId);
        Assert.DoesNotContain("never-shown", down.Message);
    }

    [Fact]
    public async Task The_plan_text_shows_the_statements_a_new_table_needs_and_writes_nothing()
    {
        var cs = await pg.NewDatabaseAsync();
        var options = new PgWriteOptions
        {
            ConnectionString = cs, Table = "docs", Index = PgIndexKind.Hnsw,
        };
        await using var writer = new PgVectorWriter(options);
        var plan = await writer.PlanAsync(Dense(1UL, [1, 2, 3], schema: Docs));
        var text = PgWritePlanText.Describe(plan, options, writer.IndexDdl, checkpoint: "nightly");

        Assert.StartsWith("Write records into public.docs on 127.0.0.1:", text);
        Assert.Contains("mode Append, 10000 records per batch.", text);
        Assert.Contains("CREATE TABLE \"public\".\"docs\" (", text);
        Assert.Contains("\"embedding\" vector(3)", text);
        Assert.Contains("USING hnsw (\"embedding\" vector_cosine_ops)", text);
        Assert.Contains("Records checkpoint 'nightly' in public.vecmigrate_checkpoint", text);
        Assert.Empty(await PgCatalog.ListTablesAsync(cs));
    }

    [Fact]
    public async Task The_plan_text_says_what_Replace_does_to_an_existing_table()
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, "CREATE TABLE docs (id numeric(20,0) PRIMARY KEY, embedding vector(3), payload jsonb)");
        var options = new PgWriteOptions { ConnectionString = cs + ";Password=plan-secret", Table = "docs", Mode = PgWriteMode.Replace };
        await using var writer = new PgVectorWriter(options);
        var text = PgWritePlanText.Describe(await writer.PlanAsync(Dense(1UL, [1, 2, 3], schema: Docs)), options, writer.IndexDdl);

        Assert.Contains("Replace: every row of the existing table is deleted (TRUNCATE)", text);
        Assert.Contains("The table exists and fits the records: columns id, embedding, payload.", text);
        Assert.DoesNotContain("CREATE", text);
        Assert.DoesNotContain("plan-secret", text);
    }
}
