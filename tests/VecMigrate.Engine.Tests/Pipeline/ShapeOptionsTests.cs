using System.Text.Json;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>What ConvertTo-PgVectorRecord and Get-QdrantPoint's -Filter ask of the pipeline pieces, without a database.</summary>
public sealed class ShapeOptionsTests
{
    [Fact]
    public void Plain_values_become_JSON_with_dictionaries_in_their_own_key_order()
    {
        // What the cmdlet layer makes of @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) } once unwrapped.
        object filter = new List<KeyValuePair<string, object?>>
        {
            new("must", new List<object?>
            {
                new List<KeyValuePair<string, object?>> { new("key", "city"), new("match", new Dictionary<string, object?> { ["value"] = "Oslo" }) },
                new List<KeyValuePair<string, object?>> { new("key", "year"), new("range", new List<KeyValuePair<string, object?>> { new("gte", 2001), new("lt", 2.5m) }) },
            }),
            new("must_not", new List<object?>()),
            new("flag", true),
            new("none", null),
        };
        Assert.Equal("""{"must":[{"key":"city","match":{"value":"Oslo"}},{"key":"year","range":{"gte":2001,"lt":2.5}}],"must_not":[],"flag":true,"none":null}""",
            ObjectRecords.ToJson(filter));
        Assert.Equal("\"text\"", ObjectRecords.ToJson("text"));
        var nan = Assert.Throws<VecMigrateException>(() => ObjectRecords.ToJson(new Dictionary<string, object?> { ["x"] = double.NaN }));
        Assert.Equal("ObjectValueNotFinite", nan.ErrorId);
    }

    [Fact]
    public void Rename_names_given_and_inferred_columns_and_refuses_a_field_that_became_none()
    {
        var record = Dense(1UL, [1, 2], """{"title":"A","year":2001,"lang":"en"}""");
        var shaper = new RecordShaper(new ShapeOptions
        {
            Columns = [new ColumnSpec("title", ColumnType.Text, "title")],
            InferFrom = 1,
            Rename = new Dictionary<string, string> { ["title"] = "doc_title", ["year"] = "published" },
        });
        var outcome = Assert.Single(shaper.Add(record));
        var shape = outcome.Record!.Columns!.Shape;
        Assert.Equal([("doc_title", "title"), ("published", "year"), ("lang", "lang")], shape.Columns.Select(c => (c.Column, c.Field)));
        using var rest = JsonDocument.Parse(outcome.Record.Payload!.Utf8Json);
        Assert.Empty(rest.RootElement.EnumerateObject()); // every field became a column

        var unknown = Assert.Throws<VecMigrateException>(() => new RecordShaper(new ShapeOptions
        {
            Columns = [new ColumnSpec("title", ColumnType.Text, "title")],
            Rename = new Dictionary<string, string> { ["titel"] = "x" },
        }));
        Assert.Equal("ConvertRenameUnknownField", unknown.ErrorId);
        Assert.Contains("'titel'", unknown.Message);
    }
}
