using Parquet;
using Parquet.Schema;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;

namespace VecMigrate.Engine.Tests.Files;

/// <summary>Files cut short or written by others are refused by name; an interrupted export resumes to the same bytes.</summary>
public sealed class FileSafetyTests : IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<VecMigrateException> ReadFailsAsync(string path)
    {
        return await Assert.ThrowsAsync<VecMigrateException>(async () => await FileTestKit.ReadAsync(path));
    }

    [Theory]
    [InlineData("cut.parquet", 0.5)]
    [InlineData("cut.parquet", 0.999)]
    [InlineData("cut.jsonl", 0.5)]
    [InlineData("cut.jsonl.gz", 0.5)]
    [InlineData("cut.jsonl.gz", 0.98)]
    public async Task A_file_cut_in_the_middle_is_refused_naming_the_file(string name, double keep)
    {
        var path = Path.Combine(_dir, name);
        await FileTestKit.WriteAsync(path, FileTestKit.Records(2000), batchSize: 300);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(int)(bytes.Length * keep)]);

        var ex = await ReadFailsAsync(path);
        Assert.Equal("FileTruncated", ex.ErrorId);
        Assert.Equal(path, ex.Target);
        Assert.Contains(path, ex.Message);
        if (!name.EndsWith(".parquet", StringComparison.Ordinal)) Assert.Matches(@"row \d+|line \d+", ex.Message);
    }

    [Fact]
    public async Task A_jsonl_file_cut_at_a_line_end_is_refused_for_its_missing_end_line_naming_the_row()
    {
        var path = Path.Combine(_dir, "lines.jsonl");
        await FileTestKit.WriteAsync(path, FileTestKit.Records(50));
        var lines = await File.ReadAllLinesAsync(path);
        await File.WriteAllLinesAsync(path, lines[..31]); // header + rows 0..29
        var ex = await ReadFailsAsync(path);
        Assert.Equal("FileTruncated", ex.ErrorId);
        Assert.Contains("after row 29 (line 31)", ex.Message);
    }

    [Fact]
    public async Task A_damaged_jsonl_line_is_refused_naming_row_and_line()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        await FileTestKit.WriteAsync(path, FileTestKit.Records(20));
        var lines = await File.ReadAllLinesAsync(path);
        lines[8] = lines[8][..^3];
        await File.WriteAllLinesAsync(path, lines);
        var ex = await ReadFailsAsync(path);
        Assert.Equal("FileUnreadable", ex.ErrorId);
        Assert.Contains("row 7 (line 9)", ex.Message);
    }

    [Fact]
    public async Task A_parquet_file_another_program_wrote_is_refused_as_foreign()
    {
        var path = Path.Combine(_dir, "foreign.parquet");
        var schema = new ParquetSchema(new DataField<string>("id", false));
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        using (var rg = writer.CreateRowGroup())
        {
            await rg.WriteAsync(schema.GetDataFields()[0], new[] { "a", "b" });
        }
        var ex = await ReadFailsAsync(path);
        Assert.Equal("FileNotVecMigrate", ex.ErrorId);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public async Task A_jsonl_file_without_a_header_is_refused_as_foreign()
    {
        var path = Path.Combine(_dir, "plain.jsonl");
        await File.WriteAllTextAsync(path, "{\"id\":1}\n");
        Assert.Equal("FileNotVecMigrate", (await ReadFailsAsync(path)).ErrorId);
    }

    [Fact]
    public async Task A_file_that_is_not_there_is_not_found()
    {
        var ex = await ReadFailsAsync(Path.Combine(_dir, "none.parquet"));
        Assert.Equal("FileNotFound", ex.ErrorId);
        Assert.Equal(FailureKind.NotFound, ex.Kind);
    }

    /// <summary>A source that stops with a failure after <paramref name="stopAfter"/> records, as a killed run does.</summary>
    private static MigrationSource Source(List<VectorRecord> records, int stopAfter = int.MaxValue) => new("test records",
        after => Read(records, after, stopAfter));

    private static async IAsyncEnumerable<VectorRecord> Read(List<VectorRecord> records, string? after, int stopAfter)
    {
        var start = after is null ? 0 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture) + 1;
        for (var i = start; i < records.Count; i++)
        {
            if (i == stopAfter) throw new InvalidOperationException("killed");
            await Task.Yield();
            yield return records[i];
        }
    }

    [Theory]
    [InlineData("k.parquet")]
    [InlineData("k.jsonl")]
    [InlineData("k.jsonl.gz")]
    public async Task An_export_stopped_part_way_and_resumed_writes_the_same_bytes_as_one_that_never_stopped(string name)
    {
        var records = FileTestKit.Records(3000);
        var whole = Path.Combine(_dir, "whole-" + name);
        await using (var sink = new FileSink(new FileSinkOptions(whole) { BatchSize = 250 }))
        {
            await Migration.RunAsync(Source(records), sink, new MigrationOptions { Checkpoint = "w" });
        }

        var path = Path.Combine(_dir, name);
        await using (var sink = new FileSink(new FileSinkOptions(path) { BatchSize = 250 }))
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Migration.RunAsync(Source(records, stopAfter: 1234), sink, new MigrationOptions { Checkpoint = "k" }));
            Assert.Equal("killed", ex.Message);
        }
        Assert.False(File.Exists(path)); // nothing half-written under the real name
        var partial = Path.Combine(_dir, $".{name}.k.partial");
        Assert.True(File.Exists(partial));
        // A kill in the middle of a write leaves bytes past the checkpoint: they must not survive.
        await using (var torn = new FileStream(partial, FileMode.Append)) torn.Write(new byte[] { 1, 2, 3, 0x50, 0x41, 0x52, 0x31 });

        MigrationSummary summary;
        await using (var sink = new FileSink(new FileSinkOptions(path) { BatchSize = 250 }))
        {
            summary = await Migration.RunAsync(Source(records), sink, new MigrationOptions { Checkpoint = "k", Resume = true });
        }
        Assert.Equal(1000, summary.RecordsBefore); // four batches of 250 were on disk when the source failed at 1234
        Assert.Equal(2000, summary.RecordsWritten);
        Assert.Equal(await File.ReadAllBytesAsync(whole), await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(partial));
        RecordAssert.SameSet(records, await FileTestKit.ReadAsync(path), sparseZerosDropped: false);

        // Run again with -Resume: the checkpoint beside the file says it is complete; nothing is written.
        await using (var sink = new FileSink(new FileSinkOptions(path)))
        {
            var again = await Migration.RunAsync(Source(records), sink, new MigrationOptions { Checkpoint = "k", Resume = true });
            Assert.True(again.AlreadyComplete);
        }
    }

    [Fact]
    public async Task An_export_without_a_checkpoint_that_fails_leaves_neither_the_file_nor_a_partial_one()
    {
        var path = Path.Combine(_dir, "f.parquet");
        await using (var sink = new FileSink(new FileSinkOptions(path) { BatchSize = 100 }))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => Migration.RunAsync(Source(FileTestKit.Records(500), stopAfter: 321), sink));
        }
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
