using VecMigrate.Engine.Files;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;

namespace VecMigrate.Engine.Tests.Files;

/// <summary>Records written to a file and read back arrive exactly, in order, with the source schema they had.</summary>
public sealed class FileRoundTripTests : IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("r.parquet")]
    [InlineData("r.jsonl")]
    [InlineData("r.jsonl.gz")]
    public async Task Every_shape_of_record_comes_back_exactly_in_order_with_payload_bytes_unchanged(string name)
    {
        var path = Path.Combine(_dir, name);
        var records = FileTestKit.Records(1000);
        var info = await FileTestKit.WriteAsync(path, records, batchSize: 128);
        Assert.Equal(1000, info.Records);

        var back = await FileTestKit.ReadAsync(path);
        RecordAssert.SameSet(records, back, sparseZerosDropped: false);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(records[i].Id, back[i].Id);
            Assert.Equal(records[i].Namespace, back[i].Namespace); // null and "" stay apart
            Assert.Equal(records[i].Payload?.ToString(), back[i].Payload?.ToString()); // byte for byte, not just by meaning
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), back[i].Position);
        }
        Assert.Empty(Directory.GetFiles(_dir, ".*")); // no partial file left behind
    }

    [Theory]
    [InlineData("s.parquet")]
    [InlineData("s.jsonl.gz")]
    public async Task The_source_schema_and_origin_come_back_so_that_an_import_creates_the_target_like_a_direct_copy(string name)
    {
        var path = Path.Combine(_dir, name);
        await FileTestKit.WriteAsync(path, FileTestKit.Records(10));
        var back = await FileTestKit.ReadAsync(path);
        var schema = back[0].Schema!;
        Assert.Same(schema, back[9].Schema); // one instance for the whole read, as sources give
        Assert.Equal(SourceKind.Qdrant, schema.Source);
        Assert.Equal("docs", schema.Name);
        Assert.Equal(IdKinds.Unsigned | IdKinds.Uuid | IdKinds.String, schema.IdKinds);
        Assert.True(schema.HasNamespaces);
        Assert.Equal(FileTestKit.Schema.Vectors, schema.Vectors);
        Assert.Equal(new RecordOrigin(SourceKind.Qdrant, path, "docs"), back[0].Origin);

        var info = await VectorFileInfo.ReadAsync(path);
        Assert.Equal(10, info.Records);
        Assert.Equal("http://qdrant.example:6333", info.Layout.Origin!.Endpoint);
        Assert.Equal(["u64", "uuid", "text"], info.IdKinds);
        Assert.Equal("(unnamed) dense(4) Cosine, image.v1 dense(3) Euclid, bm25 sparse Dot, colbert multi(2) Dot", info.VectorSpaces);
    }

    [Theory]
    [InlineData("p.parquet")]
    [InlineData("p.jsonl")]
    public async Task A_read_after_a_position_starts_at_the_next_row(string name)
    {
        var path = Path.Combine(_dir, name);
        var records = FileTestKit.Records(500);
        await FileTestKit.WriteAsync(path, records, batchSize: 64);
        var back = await FileTestKit.ReadAsync(path, after: "199");
        Assert.Equal(300, back.Count);
        Assert.Equal(records[200].Id, back[0].Id);
        Assert.Equal("200", back[0].Position);
    }

    [Theory]
    [InlineData("e.parquet")]
    [InlineData("e.jsonl")]
    public async Task An_export_of_no_records_is_a_valid_empty_file(string name)
    {
        var path = Path.Combine(_dir, name);
        var info = await FileTestKit.WriteAsync(path, []);
        Assert.Equal(0, info.Records);
        Assert.Empty(await FileTestKit.ReadAsync(path));
    }

    [Fact]
    public async Task Records_from_plain_objects_without_a_schema_take_their_vector_spaces_from_the_first_record()
    {
        var path = Path.Combine(_dir, "o.parquet");
        var records = Enumerable.Range(0, 20).Select(i => new VectorRecord($"k{i}",
            new Dictionary<string, VectorValue> { [""] = new DenseVector([i, 1, 2]) }, JsonPayload.FromString($$"""{"i":{{i}}}"""))).ToList();
        await FileTestKit.WriteAsync(path, records);
        var back = await FileTestKit.ReadAsync(path);
        RecordAssert.SameSet(records, back);
        Assert.Null(back[0].Schema);
        Assert.Equal(SourceKind.Objects, back[0].Origin!.Source);
    }

    [Theory]
    [InlineData("x.parquet")]
    [InlineData("x.jsonl")]
    public async Task Records_that_do_not_fit_the_file_are_rejected_by_name_and_the_rest_written(string name)
    {
        var path = Path.Combine(_dir, name);
        var good = FileTestKit.Records(3);
        VectorRecord Bad(string id, string vector, VectorValue value) =>
            new(id, new Dictionary<string, VectorValue> { [vector] = value }, null) { Schema = FileTestKit.Schema };
        var bad = new[]
        {
            Bad("nan", "", new DenseVector([1, float.NaN, 0, 0])),
            Bad("inf", "bm25", new SparseVector([1], [float.PositiveInfinity])),
            Bad("dims", "", new DenseVector([1, 2])),
            Bad("unknown", "other", new DenseVector([1, 2, 3, 4])),
            Bad("kind", "bm25", new DenseVector([1])),
            new VectorRecord("json", null, JsonPayload.FromString("{\"a\":")),
            new VectorRecord("array", null, JsonPayload.FromString("[1,2]")),
            new VectorRecord("utf8", null, new JsonPayload(new byte[] { (byte)'{', (byte)'"', 0xC3, (byte)'"', (byte)':', (byte)'1', (byte)'}' })),
        };
        await using var sink = new FileSink(new FileSinkOptions(path));
        await sink.WriteAsync(good[0]);
        var rejected = new List<RecordRejectedException>();
        foreach (var b in bad) rejected.Add(await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(b).AsTask()));
        await sink.WriteAsync(good[1]);
        await sink.CompleteAsync();
        Assert.All(rejected, r => Assert.Equal("FileRecordInvalid", r.ErrorId));
        Assert.Equal(["nan", "inf", "dims", "unknown", "kind", "json", "array", "utf8"], rejected.Select(r => r.Target));
        Assert.Contains("NaN or infinity", rejected[0].Message);
        Assert.Contains("'other'", rejected[3].Message);
        RecordAssert.SameSet(good.Take(2), await FileTestKit.ReadAsync(path));
    }

    [Fact]
    public async Task An_existing_file_is_refused_before_anything_is_written_and_replaced_only_with_overwrite()
    {
        var path = Path.Combine(_dir, "exists.jsonl");
        await File.WriteAllTextAsync(path, "keep me");
        await using (var sink = new FileSink(new FileSinkOptions(path)))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() => sink.WriteAsync(FileTestKit.Records(1)[0]).AsTask());
            Assert.Equal("FileTargetExists", ex.ErrorId);
        }
        Assert.Equal("keep me", await File.ReadAllTextAsync(path));
        Assert.Empty(Directory.GetFiles(_dir, ".*"));

        await using (var sink = new FileSink(new FileSinkOptions(path) { Overwrite = true }))
        {
            await sink.WriteAsync(FileTestKit.Records(1)[0]);
            Assert.Equal("keep me", await File.ReadAllTextAsync(path)); // untouched until complete
            await sink.CompleteAsync();
        }
        Assert.Single(await FileTestKit.ReadAsync(path));
    }

    [Fact]
    public void The_format_comes_from_the_extension_and_others_are_refused()
    {
        Assert.Equal(FileFormat.Parquet, FileFormats.FromPath("a/B.PARQUET"));
        Assert.Equal(FileFormat.Jsonl, FileFormats.FromPath("b.jsonl"));
        Assert.Equal(FileFormat.JsonlGzip, FileFormats.FromPath("c.jsonl.gz"));
        Assert.Equal("FileFormatUnknown", Assert.Throws<VecMigrateException>(() => FileFormats.FromPath("d.csv")).ErrorId);
    }
}
