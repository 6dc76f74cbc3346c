using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Pipeline;

[Collection(PostgresCollection.Name)]
public sealed class RecordShaperTests(PostgresFixture pg)
{
    private static readonly SourceSchema Qdrant = Schema(IdKinds.Unsigned, new VectorField("", VectorKind.Dense, 2, DistanceMetric.Cosine));

    private static List<VectorRecord> Shape(ShapeOptions o, IEnumerable<VectorRecord> input, List<RecordRejectedException>? errors = null)
    {
        var shaper = new RecordShaper(o);
        var result = new List<VectorRecord>();
        foreach (var outcome in input.SelectMany(shaper.Add).Concat(shaper.Complete()))
        {
            if (outcome.Record != null) result.Add(outcome.Record);
            else if (errors != null) errors.Add(outcome.Error!);
            else throw outcome.Error!;
        }
        return result;
    }

    private static async Task WriteAsync(string cs, string table, IEnumerable<VectorRecord> records, PgWriteMode mode = PgWriteMode.Append)
    {
        await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = table, Mode = mode });
        foreach (var r in records) await w.WriteAsync(r);
        await w.FlushAsync();
    }

    private static async Task<List<object?[]>> SelectAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await r.ReadAsync())
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    [Fact]
    public async Task Chosen_payload_fields_become_typed_columns_and_the_rest_stays_in_jsonb()
    {
        var cs = await pg.NewDatabaseAsync();
        var records = new[]
        {
            Dense(1UL, [1, 2], """{"title":"A","year":2001,"tags":["x","y"],"price":9.90,"when":"2024-05-01T10:00:00Z","meta":{"lang":"en"},"other":1}""", Qdrant),
            Dense(2UL, [3, 4], """{"title":"B","year":"1999","price":"12345678901234567.5","meta":{"lang":"de"}}""", Qdrant),
        };
        var shaped = Shape(new ShapeOptions
        {
            Columns =
            [
                new ColumnSpec("title", ColumnType.Text, "title"),
                new ColumnSpec("year", ColumnType.Integer, "year"),
                new ColumnSpec("tags", ColumnType.TextArray, "tags"),
                new ColumnSpec("price", ColumnType.Numeric, "price"),
                new ColumnSpec("published", ColumnType.Timestamptz, "when"),
                new ColumnSpec("lang", ColumnType.Text, "meta.lang"),
            ],
            IdColumn = "point_id",
            VectorColumns = new Dictionary<string, string> { [""] = "vec" },
        }, records);
        await WriteAsync(cs, "shaped", shaped);

        var cols = await ColumnsAsync(cs, "shaped");
        Assert.Equal("numeric(20,0)", cols["point_id"].Type);
        Assert.Equal("vector(2)", cols["vec"].Type);
        Assert.Equal("integer", cols["year"].Type);
        Assert.Equal("text[]", cols["tags"].Type);
        Assert.Equal("timestamp with time zone", cols["published"].Type);
        var rows = await SelectAsync(cs, "SELECT point_id::text, title, year, tags, price::text, published, lang, payload::text FROM shaped ORDER BY point_id");
        Assert.Equal(["1", "A", 2001, new[] { "x", "y" }, "9.90", new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc), "en", """{"meta": {}, "other": 1}"""], rows[0]);
        Assert.Equal(["2", "B", 1999, null, "12345678901234567.5", null, "de", """{"meta": {}}"""], rows[1]);
    }

    [Fact]
    public void A_value_that_does_not_convert_is_refused_naming_the_record_and_field()
    {
        var errors = new List<RecordRejectedException>();
        var shaped = Shape(new ShapeOptions { Columns = [new ColumnSpec("year", ColumnType.Integer, "year"), new ColumnSpec("d", ColumnType.Date, "d")] },
        [
            Dense(1UL, [1, 2], """{"year":"nineteen"}""", Qdrant),
            Dense(2UL, [1, 2], """{"year":3000000000}""", Qdrant),
            Dense(3UL, [1, 2], """{"year":2.5}""", Qdrant),
            Dense(4UL, [1, 2], """{"year":7,"d":"2024-13-01"}""", Qdrant),
            Dense(5UL, [1, 2], """{"year":7.0,"d":"2024-02-29"}""", Qdrant),
        ], errors);
        Assert.Equal(new ulong[] { 5 }, shaped.Select(r => r.Id.AsUnsigned));
        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.Equal("ConvertFieldInvalid", e.ErrorId));
        Assert.Contains("Record 1: field 'year' holds \"nineteen\"", errors[0].Message);
        Assert.Contains("column \"year\" of type integer", errors[1].Message);
        Assert.Contains("field 'd'", errors[3].Message);
    }

    [Fact]
    public async Task Types_can_be_inferred_from_the_first_records()
    {
        var cs = await pg.NewDatabaseAsync();
        var records = Enumerable.Range(0, 10).Select(i => Dense((ulong)i, [i, 0],
            $$$"""{"name":"n{{{i}}}","count":{{{i}}},"score":{{{(i == 3 ? "1.5" : i.ToString())}}},"ok":{{{(i % 2 == 0 ? "true" : "false")}}},"tags":["a"],"ids":[1,2],"obj":{"k":{{{i}}}},"maybe":null}""", Qdrant)).ToList();
        var shaped = Shape(new ShapeOptions { InferFrom = 5, Payload = PayloadRest.Drop }, records);
        Assert.Equal(10, shaped.Count);
        await WriteAsync(cs, "inf", shaped);
        var cols = await ColumnsAsync(cs, "inf");
        Assert.Equal("text", cols["name"].Type);
        Assert.Equal("bigint", cols["count"].Type);
        Assert.Equal("numeric", cols["score"].Type);
        Assert.Equal("boolean", cols["ok"].Type);
        Assert.Equal("text[]", cols["tags"].Type);
        Assert.Equal("bigint[]", cols["ids"].Type);
        Assert.Equal("jsonb", cols["obj"].Type);
        Assert.Equal("jsonb", cols["maybe"].Type);
        Assert.False(cols.ContainsKey("payload"));
        var rows = await SelectAsync(cs, "SELECT score::text FROM inf ORDER BY id");
        Assert.Equal("1.5", rows[3][0]);
    }

    [Fact]
    public async Task Ordinary_objects_with_a_vector_property_load_as_rows()
    {
        var cs = await pg.NewDatabaseAsync();
        // As Import-Csv gives them: every value a string, the vector as text.
        var rows = new[]
        {
            new KeyValuePair<string, object?>[] { new("id", "a-1"), new("title", "First"), new("year", "2020"), new("embedding", "[0.1, 0.2, 0.30000001]") },
            new KeyValuePair<string, object?>[] { new("id", "b-2"), new("title", "Second"), new("year", "2021"), new("embedding", "0.5,0.6,0.7") },
        };
        var records = rows.Select((r, i) => ObjectRecords.FromFields(r, "id", ["embedding"], $"object {i}")).ToList();
        var shaped = Shape(new ShapeOptions { Columns = [new ColumnSpec("year", ColumnType.Integer, "year")] }, records);
        await WriteAsync(cs, "csv", shaped);
        var back = await SelectAsync(cs, "SELECT id, year, payload::text, embedding::text FROM csv ORDER BY id");
        Assert.Equal(["a-1", 2020, """{"title": "First"}""", "[0.1,0.2,0.3]"], back[0]);
        // Decoded by the Pgvector package, not by the writer's codec.
        var exact = (Pgvector.Vector)(await Postgres.PgvectorReadBack.ValuesAsync(cs, "csv", "embedding"))["a-1"]!;
        AssertBitsEqual([0.1f, 0.2f, 0.30000001f], exact.ToArray(), "csv vector");

        var bad = Assert.Throws<VecMigrateException>(() => ObjectRecords.FromFields([new("id", 1), new("embedding", "0.1,x")], "id", ["embedding"], "object 7"));
        Assert.Equal("ObjectVectorInvalid", bad.ErrorId);
        Assert.Contains("object 7", bad.Message);
        Assert.Contains("'x' at position 1", bad.Message);
    }

    [Fact]
    public async Task An_existing_table_whose_typed_column_differs_is_refused()
    {
        var cs = await pg.NewDatabaseAsync();
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE t (id numeric(20,0) PRIMARY KEY, embedding vector(2), year text, payload jsonb)", c).ExecuteNonQueryAsync();
        }
        var shaped = Shape(new ShapeOptions { Columns = [new ColumnSpec("year", ColumnType.Integer, "year")] }, [Dense(1UL, [1, 2], """{"year":1}""", Qdrant)]);
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => WriteAsync(cs, "t", shaped));
        Assert.Contains("column \"year\" is text, not integer", ex.Message);
    }
}
