using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Milvus;

internal static class MilvusKit
{
    public const string Token = "root:Milvus";

    public static RestTransport Transport() => new(new RetryPolicy { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(2), MaxDelay = TimeSpan.FromMilliseconds(10) });

    public static MilvusClient Client(MilvusStandIn m, RestTransport t, string? token = Token) => new(m.Url, token is null ? null : new ApiSecret(token), t);

    public static async Task<List<VectorRecord>> ReadAllAsync(MilvusClient c, string collection, int page = 1000)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in new MilvusSource(c).ReadAsync(new MilvusReadOptions(collection) { PageSize = page })) list.Add(r);
        return list;
    }

    public static async Task<List<VectorRecord>> ReadPgAsync(string cs, string table)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = table, PageSize = 97 }).ReadAsync()) list.Add(r);
        return list;
    }

    public static async Task ExecAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static float[] Vec(Random rng, int dim) => Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}

/// <summary>Postgres ↔ Milvus through the stand-in and real Postgres: exact round trips and the mapping table.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgMilvusRoundTripTests(PostgresFixture pg)
{
    private const string TypedTable = """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE docs (
          id bigint PRIMARY KEY, embedding vector(8), title text NOT NULL, n4 integer, n2 smallint, d double precision, r real,
          ok boolean, tags bigint[], names text[], meta jsonb, day date, amount numeric);
        """;

    private static async Task FillAsync(string cs, int rows)
    {
        var rng = new Random(7);
        var values = string.Join(",\n", Enumerable.Range(0, rows).Select(i =>
        {
            var v = "[" + string.Join(",", MilvusKit.Vec(rng, 8).Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";
            var n4 = i % 5 == 0 ? "NULL" : (i * 1000).ToString();
            return $"({i * 3 + 1}, '{v}', 'doc ü {i} \"q\"', {n4}, {i % 300}, {i * 0.25}, {i}.5, {(i % 2 == 0 ? "true" : "false")}, ARRAY[{i},{i + 1}]::bigint[], ARRAY['a{i}','b'], '{{\"k\":{i},\"deep\":{{\"x\":[1,2]}}}}', '2024-01-{1 + i % 28:00}', {i}.125)";
        }));
        await MilvusKit.ExecAsync(cs, $"INSERT INTO docs VALUES {values}");
    }

    [Fact]
    public async Task A_typed_table_goes_to_Milvus_with_the_mapping_table_and_comes_back_to_Postgres_exactly()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, TypedTable);
        await FillAsync(cs, 500);
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);

        var fromPg = await MilvusKit.ReadPgAsync(cs, "docs");
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("docs") { BatchSize = 64 }))
        {
            var summary = await sink.WriteThroughRunnerAsync(PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "docs", PageSize = 70 }).Read(null));
            Assert.Equal(500, summary.RecordsWritten);
            Assert.Equal(0, summary.RecordsRejected);
        }

        // One row of the mapping table each (docs/milvus.md).
        var fields = m.Collections["docs"].Fields.ToDictionary(f => f.Name);
        Assert.Equal(("Int64", true), (fields["id"].DataType, fields["id"].IsPrimary)); // single-column key → the key
        Assert.Equal(("FloatVector", 8), (fields["vector"].DataType, fields["vector"].Dim)); // vector(n) → FLOAT_VECTOR(n)
        Assert.Equal(("VarChar", false), (fields["title"].DataType, fields["title"].Nullable)); // text → VARCHAR, NOT NULL kept
        Assert.Equal("VarChar", fields["day"].DataType); // date → VARCHAR
        Assert.Equal(("Int32", true), (fields["n4"].DataType, fields["n4"].Nullable)); // integer → INT32, nullable
        Assert.Equal("Int16", fields["n2"].DataType); // smallint → INT16
        Assert.Equal("Double", fields["d"].DataType); // double precision → DOUBLE
        Assert.Equal("Float", fields["r"].DataType); // real → FLOAT
        Assert.Equal("Bool", fields["ok"].DataType); // boolean → BOOL
        Assert.Equal(("Array", "Int64"), (fields["tags"].DataType, fields["tags"].ElementType)); // array → ARRAY
        Assert.Equal(("Array", "VarChar"), (fields["names"].DataType, fields["names"].ElementType));
        Assert.Equal("JSON", fields["meta"].DataType); // jsonb → JSON
        Assert.False(fields.ContainsKey("amount")); // numeric: no typed counterpart → dynamic field
        Assert.True(m.Collections["docs"].EnableDynamicField);
        Assert.Equal("COSINE", m.Collections["docs"].Metrics["vector"]);

        var fromMilvus = await MilvusKit.ReadAllAsync(client, "docs", page: 33);
        RecordAssert.SameSet(fromPg, fromMilvus);
        Assert.Equal(fromMilvus.Select(r => r.Id.AsUnsigned).Order(), fromMilvus.Select(r => r.Id.AsUnsigned)); // key order

        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "back", BatchSize = 100 }))
        {
            await foreach (var r in new MilvusSource(client).ReadAsync(new MilvusReadOptions("docs") { PageSize = 50 })) await w.WriteAsync(r);
            await w.FlushAsync();
        }
        RecordAssert.SameSet(fromPg, await MilvusKit.ReadPgAsync(cs, "back"));
    }

    [Fact]
    public async Task A_composite_key_becomes_a_key_of_its_values_and_its_columns_ordinary_fields_and_a_second_run_changes_nothing()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, """
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE TABLE parts (tenant text, id bigint, embedding vector(3), title text, PRIMARY KEY (tenant, id));
            INSERT INTO parts SELECT 't' || (i % 3), i, ARRAY[i, 1, -i]::real[]::vector, 'part "' || i || '"' FROM generate_series(1, 250) AS i;
            """);
        var options = new PgReadOptions { ConnectionString = cs, Table = "parts", PageSize = 40 };
        var fromPg = await new PgVectorSource(options).ReadAsync().ToListAsync();
        // The source: ids made of the key's values, in key order; the key's columns in the payload as well.
        Assert.Equal(250, fromPg.Count);
        Assert.Equal(["tenant", "id"], fromPg[0].Schema!.KeyColumns!);
        Assert.Equal(IdKinds.String, fromPg[0].Schema!.IdKinds);
        Assert.Equal("""["t0","3"]""", fromPg[0].Id.ToString()); // 't0' sorts first, then the bigint 3
        Assert.Equal("""["t0","6"]""", fromPg[1].Id.ToString());
        Assert.Equal("""{"id": 3, "title": "part \"3\"", "tenant": "t0"}""", fromPg[0].Payload!.ToString());

        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        for (var run = 0; run < 2; run++)
        {
            await using var sink = new MilvusSink(client, new MilvusSinkOptions("parts") { BatchSize = 64 });
            var summary = await sink.WriteThroughRunnerAsync(PgVectorSource.AsMigrationSource(options).Read(null));
            Assert.Equal((250L, 0L), (summary.RecordsWritten, summary.RecordsRejected));
        }
        var c = m.Collections["parts"];
        Assert.Equal(250, c.Rows.Count); // the second run upserted the same keys: nothing doubled
        Assert.Equal(("pk", "VarChar"), (c.Pk.Name, c.Pk.DataType)); // "id" is one of the key's columns
        var fields = c.Fields.ToDictionary(f => f.Name);
        Assert.Equal(("VarChar", false), (fields["tenant"].DataType, fields["tenant"].Nullable)); // the key's columns: ordinary fields
        Assert.Equal(("Int64", false), (fields["id"].DataType, fields["id"].Nullable));
        Assert.Contains("""["t2","2"]""", c.Rows.Keys.Select(k => k.ToString()));
        RecordAssert.SameSet(fromPg, await MilvusKit.ReadAllAsync(client, "parts", page: 30));
    }

    [Fact]
    public async Task A_table_without_a_primary_key_is_read_in_row_order_and_resumes_after_any_row()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, """
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE TABLE loose (embedding vector(3), title text, n int);
            INSERT INTO loose SELECT ARRAY[i, 0.5, -i]::real[]::vector, 'row ' || (i % 50), i FROM generate_series(1, 900) AS i;
            DELETE FROM loose WHERE n % 7 = 0;   -- holes in the heap, never vacuumed
            ANALYZE loose;
            """);
        var options = new PgReadOptions { ConnectionString = cs, Table = "loose", PageSize = 25 };
        var all = await new PgVectorSource(options).ReadAsync().ToListAsync();

        Assert.Equal(900 - 900 / 7, all.Count);
        Assert.True(all[0].Schema!.RowLocations);
        Assert.Null(all[0].Schema!.KeyColumns);
        Assert.Equal("(0,1)", all[0].Id.ToString());
        Assert.Equal(all.Select(r => JsonDocument.Parse(r.Payload!.Utf8Json).RootElement.GetProperty("n").GetInt32()).Order(), // every row once, in heap order
            all.Select(r => JsonDocument.Parse(r.Payload!.Utf8Json).RootElement.GetProperty("n").GetInt32()));
        foreach (var k in new[] { 0, 1, 24, 25, 26, 300, all.Count - 2 })
        {
            var rest = await new PgVectorSource(options.WithStartAfter(all[k].Position)).ReadAsync().ToListAsync();
            Assert.Equal(all.Skip(k + 1).Select(r => r.Id.ToString()), rest.Select(r => r.Id.ToString()));
        }
        Assert.Empty(await new PgVectorSource(options.WithStartAfter(all[^1].Position)).ReadAsync().ToListAsync());
        var split = await Assert.ThrowsAsync<VecMigrateException>(() => new PgVectorSource(options).SplitAsync(2));
        Assert.Equal("MigrationSourceCannotSplit", split.ErrorId);
    }

    [Fact]
    public async Task A_table_without_a_primary_key_goes_once_into_an_Auto_ID_collection_and_nowhere_that_needs_ids()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, """
            CREATE EXTENSION IF NOT EXISTS vector;
            CREATE TABLE loose (embedding vector(3), title text NOT NULL, n int);
            INSERT INTO loose SELECT ARRAY[i % 40, 1, 2]::real[]::vector, 'row ' || (i % 40), i % 40 FROM generate_series(1, 400) AS i;  -- every row ten times over
            """);
        var options = new PgReadOptions { ConnectionString = cs, Table = "loose", PageSize = 60 };
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("loose") { BatchSize = 64 }))
        {
            var summary = await sink.WriteThroughRunnerAsync(PgVectorSource.AsMigrationSource(options).Read(null));
            Assert.Equal((400L, 0L), (summary.RecordsWritten, summary.RecordsRejected));
            Assert.False(((IRecordSink)sink).Idempotent); // inserts: a lost answer is never sent again
        }
        var c = m.Collections["loose"];
        Assert.True(c.AutoId); // no primary key → Auto ID on
        Assert.Equal(("id", "Int64"), (c.Pk.Name, c.Pk.DataType));
        Assert.Equal(400, c.Rows.Count); // rows get new ids: the ten copies of each row are all there
        Assert.Equal(("VarChar", false), (c.Fields.Single(f => f.Name == "title").DataType, c.Fields.Single(f => f.Name == "title").Nullable));
        static string Row(VectorRecord r) => string.Join(",", ((DenseVector)r.Vectors[""]).Values) + " " +
            string.Join(",", JsonDocument.Parse(r.Payload!.Utf8Json).RootElement.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetRawText()}"));
        var fromPg = await new PgVectorSource(options).ReadAsync().ToListAsync();
        var fromMilvus = await MilvusKit.ReadAllAsync(client, "loose", page: 70);
        Assert.Equal(fromPg.Select(Row).Order(StringComparer.Ordinal), fromMilvus.Select(Row).Order(StringComparer.Ordinal));

        // A second copy would add every row again: refused before anything is written.
        await using (var again = new MilvusSink(client, new MilvusSinkOptions("loose")))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() => again.WriteThroughRunnerAsync(PgVectorSource.AsMigrationSource(options).Read(null)));
            Assert.Equal(MilvusErrorIds.Incompatible, ex.ErrorId);
            Assert.Contains("holds 400 entities already", ex.Message);
        }
        Assert.Equal(400, c.Rows.Count);

        // Targets that keep ids refuse rows without any.
        await using var pgSink = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "copy" });
        var refused = await Assert.ThrowsAsync<VecMigrateException>(() => pgSink.WriteThroughRunnerAsync(new PgVectorSource(options).ReadAsync()));
        Assert.Equal("TargetNeedsKey", refused.ErrorId);
        Assert.Contains("no primary key", refused.Message);
        Assert.Equal(0L, await PgCount(cs, "SELECT count(*) FROM pg_tables WHERE tablename = 'copy'"));
    }

    private static async Task<long> PgCount(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_partition_key_is_set_on_the_named_typed_field_and_a_wrong_one_is_refused_before_writing()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE t (id text PRIMARY KEY, embedding vector(3), tenant text NOT NULL, d float8); INSERT INTO t VALUES ('a','[1,2,3]','acme',1.5),('b','[3,2,1]','zeta',2)");
        await using var m = await MilvusStandIn.StartAsync();
        using var tr = MilvusKit.Transport();
        var client = MilvusKit.Client(m, tr);
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("t") { PartitionKey = "tenant", ShardsNum = 2 }))
            await sink.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "t" }).ReadAsync());
        var f = m.Collections["t"].Fields.Single(x => x.Name == "tenant");
        Assert.True(f.PartitionKey);
        Assert.False(f.Nullable);
        Assert.Equal(2, m.Collections["t"].ShardsNum);
        Assert.Equal("VarChar", m.Collections["t"].Pk.DataType); // text key → VARCHAR key
        RecordAssert.SameSet(await MilvusKit.ReadPgAsync(cs, "t"), await MilvusKit.ReadAllAsync(client, "t"));

        await using var bad = new MilvusSink(client, new MilvusSinkOptions("t2") { PartitionKey = "d" });
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => bad.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "t" }).ReadAsync()));
        Assert.Equal(MilvusErrorIds.Incompatible, ex.ErrorId);
        Assert.Contains("partition key 'd' is Double", ex.Message);
        Assert.False(m.Collections.ContainsKey("t2"));
    }

    [Fact]
    public async Task Renamed_fields_get_their_new_names_in_the_collection_and_the_rows()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(3), city text NOT NULL, title text); " +
            "INSERT INTO t VALUES (1,'[1,2,3]','Oslo','one'),(2,'[3,2,1]','Bergen','two'),(3,'[0,1,0]','Oslo',NULL)");
        await using var m = await MilvusStandIn.StartAsync();
        using var tr = MilvusKit.Transport();
        var client = MilvusKit.Client(m, tr);
        var options = new MilvusSinkOptions("t") { Rename = new Dictionary<string, string> { ["city"] = "tenant", ["title"] = "doc_title" }, PartitionKey = "tenant" };
        await using (var sink = new MilvusSink(client, options))
            Assert.Equal(3, (await sink.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "t" }).ReadAsync())).RecordsWritten);

        var c = m.Collections["t"];
        Assert.Equal(["id", "vector", "tenant", "doc_title"], c.Fields.Select(f => f.Name));
        Assert.True(c.Fields.Single(f => f.Name == "tenant").PartitionKey); // -PartitionKey names the field after renaming
        Assert.Equal(("VarChar", true), (c.Fields.Single(f => f.Name == "doc_title").DataType, c.Fields.Single(f => f.Name == "doc_title").Nullable)); // the type kept
        var back = await MilvusKit.ReadAllAsync(client, "t");
        Assert.Equal("""{"tenant":"Oslo","doc_title":"one"}""", back.Single(r => r.Id.AsUnsigned == 1).Payload!.ToString());
        Assert.Equal("""{"tenant":"Oslo","doc_title":null}""", back.Single(r => r.Id.AsUnsigned == 3).Payload!.ToString());

        var clash = new MilvusSinkOptions("t3") { Rename = new Dictionary<string, string> { ["city"] = "x", ["title"] = "x" } };
        Assert.Contains("the same name 'x'", Assert.Throws<VecMigrateException>(() => new MilvusSink(client, clash)).Message);
        var bad = new MilvusSinkOptions("t4") { Rename = new Dictionary<string, string> { ["city"] = "1city" } };
        Assert.Contains("not a Milvus field name", Assert.Throws<VecMigrateException>(() => new MilvusSink(client, bad)).Message);
    }

    [Fact]
    public async Task Without_a_dynamic_field_an_untyped_column_is_refused_before_writing_and_an_extra_payload_key_by_record()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE t (id bigint PRIMARY KEY, embedding vector(3), amount numeric); INSERT INTO t VALUES (1,'[1,2,3]',2.5)");
        await using var m = await MilvusStandIn.StartAsync();
        using var tr = MilvusKit.Transport();
        var client = MilvusKit.Client(m, tr);
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("t") { NoDynamicField = true }))
        {
            var e = await Assert.ThrowsAsync<VecMigrateException>(() => sink.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "t" }).ReadAsync()));
            Assert.Equal(MilvusErrorIds.Incompatible, e.ErrorId);
            Assert.Contains("field 'amount' (numeric) has no Milvus type and -NoDynamicField leaves its values nowhere to go", e.Message);
        }
        Assert.False(m.Collections.ContainsKey("t"));

        // Records without a schema: the collection has key and vector only, so a payload key has nowhere to go.
        static VectorRecord R(ulong id, string? payload) => new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector([1f, 2f, (float)id]) },
            payload is null ? null : JsonPayload.FromString(payload));
        var rejections = new List<RecordRejectedException>();
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("plain") { NoDynamicField = true }))
        {
            var summary = await sink.WriteThroughRunnerAsync(new[] { R(1, null), R(2, """{"extra":1}"""), R(3, "{}") }.ToAsyncEnumerable(), rejections.Add);
            Assert.Equal((2L, 1L), (summary.RecordsWritten, summary.RecordsRejected));
        }
        Assert.False(m.Collections["plain"].EnableDynamicField);
        var rejected = Assert.Single(rejections);
        Assert.Equal(2UL, rejected.Record.Id.AsUnsigned);
        Assert.Contains("payload key 'extra' has no field, and collection 'plain' has no dynamic field", rejected.Message);
        Assert.Equal([1L, 3L], m.Collections["plain"].Rows.Keys.Cast<long>());
    }

    [Fact]
    public async Task Copy_from_Postgres_to_Milvus_resumes_after_an_interruption_without_losing_or_doubling()
    {
        var cs = await pg.NewDatabaseAsync();
        await MilvusKit.ExecAsync(cs, TypedTable);
        await FillAsync(cs, 900);
        await using var m = await MilvusStandIn.StartAsync();
        using var tr = MilvusKit.Transport();
        var client = MilvusKit.Client(m, tr);
        var dir = Directory.CreateTempSubdirectory("vm-milvus-ckpt").FullName;
        // The table as read once; the copy reads it again from any position (the Pg source itself is tested elsewhere).
        var rows = await MilvusKit.ReadPgAsync(cs, "docs");
        var read = 0;
        var killAt = 430;
        async IAsyncEnumerable<VectorRecord> From(string? after)
        {
            var start = after is null ? 0 : rows.FindIndex(r => r.Position == after) + 1;
            foreach (var r in rows.Skip(start))
            {
                if (++read > killAt) throw new InvalidOperationException("killed");
                await Task.Yield();
                yield return r;
            }
        }
        var real = new MigrationSource("Postgres docs (test)", From);
        var options = new MigrationOptions { Checkpoint = "pg-milvus", Resume = true, CheckpointStore = new FileCheckpointStore(dir) };
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("docs") { BatchSize = 100 }))
            await Assert.ThrowsAsync<InvalidOperationException>(() => Migration.RunAsync(real, sink, options));
        killAt = int.MaxValue;
        var afterFirst = m.Collections["docs"].Rows.Count;
        Assert.InRange(afterFirst, 400, 430);
        var upsertsBefore = m.Exchanges.Count(e => e.Path.EndsWith("upsert"));
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("docs") { BatchSize = 100 }))
        {
            var s = await Migration.RunAsync(real, sink, options);
            Assert.True(s.Completed);
            Assert.Equal(900 - afterFirst, s.RecordsWritten); // only what the checkpoint had not acknowledged
        }
        Assert.Equal(900, m.Collections["docs"].Rows.Count);
        RecordAssert.SameSet(await MilvusKit.ReadPgAsync(cs, "docs"), await MilvusKit.ReadAllAsync(client, "docs"));
        Assert.InRange(m.Exchanges.Count(e => e.Path.EndsWith("upsert")) - upsertsBefore, 5, 6);
    }
}

/// <summary>Reading and writing Milvus through the stand-in: pages, faults, bad input, auth, contract.</summary>
public sealed class MilvusStandInTests
{
    private static IEnumerable<MilvusStandInField> Fields(string pk = "Int64", int dim = 4) =>
    [
        new("pk", pk, true, false, false, null, pk == "VarChar" ? 64 : null, null, null),
        new("emb", "FloatVector", false, false, false, dim, null, null, null),
        new("title", "VarChar", false, true, false, null, 32, null, null),
    ];

    [Fact]
    public async Task A_50000_entity_collection_is_read_whole_in_key_order_over_many_pages_without_offsets()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("big", Fields());
        var rng = new Random(3);
        var keys = Enumerable.Range(0, 50_000).Select(i => (long)i * 7 + rng.Next(7)).OrderBy(_ => rng.Next()).ToList();
        m.AddRows("big", keys.Select(k => new JsonObject { ["pk"] = k, ["emb"] = new JsonArray(1f, 2f, 3f, k), ["title"] = $"t{k}", ["extra"] = k % 3 }));
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var seen = 0L;
        var last = -1L;
        var source = new MilvusSource(client);
        await foreach (var r in source.ReadAsync(new MilvusReadOptions("big") { PageSize = 1000 }))
        {
            var id = (long)r.Id.AsUnsigned;
            Assert.True(id > last, $"{id} after {last}");
            last = id;
            Assert.Equal((float)id, r.Embedding![3]);
            seen++;
        }
        Assert.Equal(50_000, seen);
        Assert.Equal(51, m.QueryCount); // 50 full pages and the empty one that ends the read
        Assert.DoesNotContain(m.Exchanges, e => e.Path.EndsWith("query") && e.RequestBody.Contains("offset"));
    }

    [Fact]
    public async Task Float16_BFloat16_and_sparse_fields_of_a_collection_made_elsewhere_are_read_exactly_as_named_vectors()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("mixed",
        [
            new("id", "Int64", true, false, false, null, null, null, null),
            new("half", "Float16Vector", false, false, false, 3, null, null, null),
            new("brain", "BFloat16Vector", false, false, false, 2, null, null, null),
            new("sp", "SparseFloatVector", false, false, false, null, null, null, null),
            new("note", "JSON", false, true, false, null, null, null, null),
        ], metrics: new() { ["half"] = "L2", ["brain"] = "IP", ["sp"] = "IP" });
        static string B64(params ushort[] v) => Convert.ToBase64String(v.SelectMany(BitConverter.GetBytes).ToArray());
        var half = new[] { (Half)1.5f, (Half)(-0.099975586f), Half.MaxValue };
        m.AddRows("mixed",
        [
            new JsonObject
            {
                ["id"] = 9, ["half"] = B64(half.Select(BitConverter.HalfToUInt16Bits).ToArray()),
                ["brain"] = B64((ushort)(BitConverter.SingleToInt32Bits(2.5f) >> 16), (ushort)(BitConverter.SingleToInt32Bits(-1f) >> 16)),
                ["sp"] = new JsonObject { ["7"] = 0.5f, ["2"] = 1.25f }, ["note"] = new JsonObject { ["a"] = new JsonArray(1, "x") },
            },
        ]);
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var r = Assert.Single(await MilvusKit.ReadAllAsync(client, "mixed"));
        Assert.Equal(half.Select(h => (float)h), ((DenseVector)r.Vectors["half"]).Values);
        Assert.Equal([2.5f, -1f], ((DenseVector)r.Vectors["brain"]).Values);
        var sp = (SparseVector)r.Vectors["sp"];
        Assert.Equal([2u, 7u], sp.Indices);
        Assert.Equal([1.25f, 0.5f], sp.Values);
        Assert.True(JsonPayload.DeepEquals("""{"note":{"a":[1,"x"]}}"""u8, r.Payload!.Utf8Json.Span));
        var schema = await new MilvusSource(client).DescribeAsync("mixed");
        Assert.Equal([("half", DistanceMetric.Euclid), ("brain", DistanceMetric.Dot), ("sp", DistanceMetric.Dot)], schema.Vectors.Select(v => (v.Name, v.Metric)));
    }

    [Fact]
    public async Task Reading_resumes_after_a_position_and_VarChar_keys_page_by_their_UTF8_bytes()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("s", Fields("VarChar"));
        var keys = new[] { "a", "b\"q", "é", "z", "\uE000", "😀", "back\\slash" };
        m.AddRows("s", keys.Select(k => new JsonObject { ["pk"] = k, ["emb"] = new JsonArray(1f, 0f, 0f, 0f) }));
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var all = await MilvusKit.ReadAllAsync(client, "s", page: 2);
        var expected = keys.OrderBy(k => k, Comparer<string>.Create(MilvusTypeMap.CompareUtf8)).ToList();
        Assert.Equal(expected, all.Select(r => r.Id.AsString));
        var rest = new List<string>();
        await foreach (var r in new MilvusSource(client).ReadAsync(new MilvusReadOptions("s") { PageSize = 2, StartAfter = all[2].Position })) rest.Add(r.Id.AsString);
        Assert.Equal(expected.Skip(3), rest);
    }

    [Fact]
    public async Task Rate_limit_and_unavailable_answers_are_retried_for_reads_and_writes()
    {
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var records = Enumerable.Range(0, 30).Select(i => new VectorRecord((ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1, 2]) }, JsonPayload.FromString($$"""{"i":{{i}}}"""))).ToList();
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("r") { BatchSize = 10 }))
        {
            await sink.WriteAsync(records[0]); // plans and creates
            m.FailNext(8, 2);
            m.FailNext(2, 1);
            m.FailNext(8, 1, httpStatus: 429);
            foreach (var r in records.Skip(1)) await sink.WriteAsync(r);
            await sink.FlushAsync();
        }
        m.FailNext(8, 3);
        RecordAssert.SameSet(records, await MilvusKit.ReadAllAsync(client, "r", page: 7));
        Assert.Equal(4 + 3, m.Exchanges.Count(e => e.ResponseBody.Contains("\"code\":8") || e.ResponseBody.Contains("\"code\":2,")));

        m.FailNext(8, 10);
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => MilvusKit.ReadAllAsync(client, "r"));
        Assert.Equal(MilvusErrorIds.RateLimited, ex.ErrorId);
    }

    [Fact]
    public async Task Bad_records_are_named_one_by_one_and_the_good_ones_still_go_in()
    {
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var schema = new SourceSchema(SourceKind.Postgres, "x", IdKinds.Unsigned, [new VectorField("", VectorKind.Dense, 3)], false, "payload")
        {
            Fields = [new ScalarField("title", "varchar", true)],
        };
        VectorRecord R(ulong id, float[] v, string? payload = null) =>
            new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(v) }, payload is null ? null : JsonPayload.FromString(payload)) { Schema = schema };
        var rejected = new List<RecordRejectedException>();
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("bad")))
        {
            await sink.WriteThroughRunnerAsync(new[]
            {
                R(1, [1, 2, 3], """{"title":"ok"}"""),
                R(2, [1, float.NaN, 3]),
                R(3, [1, 2]),
                R((ulong)long.MaxValue + 1, [1, 2, 3]),
                R(5, [1, 2, 3], $$"""{"title":"{{new string('x', 70_000)}}"}"""),
                R(6, [1, 2, 3], """{"gone":null}"""),
                R(7, [1, 2, 3], """{"big":1e30}"""),
                R(8, [1, 2, 3], """{"title":"fine","n":12}"""),
            }.ToAsyncEnumerable(), rejected.Add);
        }
        Assert.Equal(["2", "3", "9223372036854775808", "5", "6", "7"], rejected.Select(e => e.Record.Id.ToString()));
        Assert.Equal([MilvusErrorIds.InvalidVector, MilvusErrorIds.DimensionMismatch, MilvusErrorIds.IdOutOfRange, MilvusErrorIds.ValueTooLong,
            MilvusErrorIds.InvalidValue, MilvusErrorIds.InvalidValue], rejected.Select(e => e.ErrorId));
        Assert.All(rejected, e => Assert.Contains($"Record {e.Record.Id}", e.Message));
        Assert.Contains("9223372036854775807", rejected[2].Message);
        Assert.Equal([1L, 8L], m.Collections["bad"].Rows.Keys.Cast<long>());

        // A string id cannot go into the Int64 key: named too, nothing else lost.
        await using var sink2 = new MilvusSink(client, new MilvusSinkOptions("bad") { CreateCollection = false });
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => sink2.WriteThroughRunnerAsync(new[] { new VectorRecord("doc-1", new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3]) }, null) }.ToAsyncEnumerable()));
        Assert.Equal(MilvusErrorIds.Incompatible, ex.ErrorId);
        Assert.Contains("Int64 but the records' ids are String", ex.Message);
    }

    [Fact]
    public async Task An_existing_collection_that_cannot_take_the_records_is_refused_before_anything_is_written()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("ex", Fields(dim: 5));
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        await using var sink = new MilvusSink(client, new MilvusSinkOptions("ex"));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(async () => await sink.WriteAsync(
            new VectorRecord(1UL, new Dictionary<string, VectorValue> { ["emb"] = new DenseVector([1, 2, 3]) }, null)));
        Assert.Equal(MilvusErrorIds.Incompatible, ex.ErrorId);
        Assert.Contains("vector 'emb' has dimension 3 but field 'emb' has 5", ex.Message);
        Assert.DoesNotContain(m.Exchanges, e => e.Path.EndsWith("upsert") || e.Path.EndsWith("insert"));
    }

    [Fact]
    public async Task Unloaded_missing_collections_and_bad_tokens_get_clear_errors_without_the_token()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("cold", Fields(), loaded: false);
        using var t = MilvusKit.Transport();
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => MilvusKit.ReadAllAsync(MilvusKit.Client(m, t), "cold"));
        Assert.Equal(MilvusErrorIds.CollectionNotLoaded, ex.ErrorId);
        Assert.Contains("not loaded", ex.Message);
        ex = await Assert.ThrowsAsync<VecMigrateException>(() => MilvusKit.ReadAllAsync(MilvusKit.Client(m, t), "nope"));
        Assert.Equal((MilvusErrorIds.CollectionNotFound, FailureKind.NotFound), (ex.ErrorId, ex.Kind));
        ex = await Assert.ThrowsAsync<VecMigrateException>(() => MilvusKit.ReadAllAsync(MilvusKit.Client(m, t, "root:hunter2"), "cold"));
        Assert.Equal((MilvusErrorIds.Unauthorized, FailureKind.Unauthorized), (ex.ErrorId, ex.Kind));
        Assert.DoesNotContain("hunter2", ex.Message);
    }

    [Fact]
    public async Task The_stand_in_refuses_a_query_window_above_16384_as_Milvus_does()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.AddCollection("w", Fields());
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bearer " + MilvusKit.Token);
        var answer = await http.PostAsync(new Uri(m.Url, "v2/vectordb/entities/query"), new StringContent("""{"collectionName":"w","filter":"","limit":16000,"offset":385}"""));
        using var doc = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(1100, doc.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("(offset+limit) should be in range [1, 16384], but got 16385", doc.RootElement.GetProperty("message").GetString());
        using var t = MilvusKit.Transport();
        await Assert.ThrowsAsync<VecMigrateException>(() => MilvusKit.ReadAllAsync(MilvusKit.Client(m, t), "w", page: 16_385));
    }

    [Fact]
    public async Task Reads_ask_for_Strong_consistency_so_entities_written_a_moment_before_are_all_read_and_searched()
    {
        await using var m = await MilvusStandIn.StartAsync();
        m.BoundedStaleness = TimeSpan.FromMinutes(10); // a read at the collection's default level sees none of this test's writes
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var records = Enumerable.Range(0, 40).Select(i => new VectorRecord((ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1, 2]) }, JsonPayload.FromString($$"""{"i":{{i}}}"""))).ToList();
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("fresh") { BatchSize = 16 }))
        {
            await sink.WriteThroughRunnerAsync(records.ToAsyncEnumerable());
        }

        RecordAssert.SameSet(records, await MilvusKit.ReadAllAsync(client, "fresh", page: 9));
        using (var found = await client.SearchAsync("fresh", "vector", [39, 1, 2], 3, "", ["id"]))
        {
            Assert.Equal(3, found.RootElement.GetProperty("data").GetArrayLength());
        }
        Assert.NotEmpty(m.ReadConsistency);
        Assert.All(m.ReadConsistency, level => Assert.Equal("Strong", level));

        // The stand-in's Bounded view, which a read without the level gets: none of the entities just written.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", MilvusKit.Token);
        async Task<JsonElement> Query(string level)
        {
            var answer = await http.PostAsync(new Uri(m.Url, "v2/vectordb/entities/query"),
                new StringContent($$"""{"collectionName":"fresh","filter":"","limit":100{{level}}}"""));
            return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        }
        Assert.Equal(0, (await Query("")).GetProperty("data").GetArrayLength());
        Assert.Equal(0, (await Query(",\"consistencyLevel\":\"Bounded\"")).GetProperty("data").GetArrayLength());
        Assert.Equal(40, (await Query(",\"consistencyLevel\":\"Strong\"")).GetProperty("data").GetArrayLength());
        Assert.Equal(1100, (await Query(",\"consistencyLevel\":\"Latest\"")).GetProperty("code").GetInt32());
    }
}
