using System.Globalization;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using Xunit.Abstractions;

namespace VecMigrate.Engine.Tests.Files;

/// <summary>
/// Files split for parallel lanes: Parquet by row groups, JSONL by byte ranges cut at line starts. Every split reads
/// each record once (in file order, part after part), a part resumes within itself exactly, and three lanes copy a
/// file into Postgres digest-exact, also when killed at random moments and resumed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FileSplitTests(PostgresFixture pg, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, int, int, int> Splits()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var ext in new[] { "parquet", "jsonl" })
        {
            foreach (var parts in new[] { 1, 2, 3, 7 })
            {
                data.Add(ext, 1000, 37, parts);  // many row groups, one of fewer rows at the end
                data.Add(ext, 0, 10, parts);     // no records at all
            }
            data.Add(ext, 2, 1, 7);              // fewer records than parts (and than row groups)
            data.Add(ext, 5, 100, 3);            // fewer records than parts would need
            data.Add(ext, 600, 10_000, 3);       // one huge row group
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Every_split_reads_each_record_exactly_once_and_a_part_resumes_within_itself(string ext, int count, int rowGroup, int parts)
    {
        var path = Path.Combine(_dir, $"s.{ext}");
        var records = FileTestKit.Records(count, seed: count + parts);
        await FileTestKit.WriteAsync(path, records, batchSize: rowGroup);
        var source = FileSourceSpec.Source(path);
        var whole = await source.Read(null).ToListAsync();
        Assert.Equal(count, whole.Count);

        var bounds = await source.Split!(parts, default);
        Assert.Equal(parts, bounds.Count);
        var read = new List<VectorRecord>();
        var sizes = new List<int>();
        foreach (var b in bounds)
        {
            var part = source.Narrow!(b);
            Assert.StartsWith(source.Description + ", ", part.Description);
            var got = await part.Read(null).ToListAsync();
            sizes.Add(got.Count);
            read.AddRange(got);
            // Resumed after its second record, a part reads exactly the rest of it; after its last, nothing.
            if (got.Count >= 3) Assert.Equal(got.Skip(2).Select(Key), (await part.Read(got[1].Position).ToListAsync()).Select(Key));
            if (got.Count >= 1) Assert.Empty(await part.Read(got[^1].Position).ToListAsync());
        }
        // Each record once, in the file's order (parts are consecutive), and exactly as the whole read gives it.
        Assert.Equal(whole.Select(Key), read.Select(Key));
        RecordAssert.SameSet(whole, read, sparseZerosDropped: false);
        if (ext == "parquet") Assert.Equal(whole.Select(r => r.Position), read.Select(r => r.Position)); // row numbers stay
        else Assert.All(read, r => Assert.StartsWith("@", r.Position)); // where each line starts
        if (count >= parts * 100 && rowGroup * parts < count)
        {
            // Balanced: no part holds much more than its share (a row group or a line over it).
            Assert.True(sizes.Max() <= count / parts + Math.Max(rowGroup, count / parts / 2), $"sizes {string.Join(",", sizes)}");
        }
    }

    private static string Key(VectorRecord r) => VectorDigest.KeyOf(r);

    [Fact]
    public async Task A_jsonl_part_never_reads_a_line_before_it_and_refuses_a_position_that_is_not_a_line_start()
    {
        var path = Path.Combine(_dir, "p.jsonl");
        await FileTestKit.WriteAsync(path, FileTestKit.Records(300));
        var source = FileSourceSpec.Source(path);
        var bounds = await source.Split!(3, default);
        var third = source.Narrow!(bounds[2]);
        var records = await third.Read(null).ToListAsync();
        Assert.NotEmpty(records);
        // Damage a line of the first part: the third part still reads (it never reads the first part's bytes).
        var bytes = await File.ReadAllBytesAsync(path);
        var first = await source.Narrow!(bounds[0]).Read(null).ToListAsync();
        var at = long.Parse(first[5].Position![1..], CultureInfo.InvariantCulture);
        bytes[at + 2] = (byte)'#';
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Equal(records.Select(Key), (await third.Read(null).ToListAsync()).Select(Key));
        var broken = await Assert.ThrowsAsync<VecMigrateException>(() => source.Narrow!(bounds[0]).Read(null).ToListAsync().AsTask());
        Assert.Equal("FileUnreadable", broken.ErrorId);
        Assert.Contains($"the line at byte {at}", broken.Message);

        var middle = long.Parse(records[1].Position![1..], CultureInfo.InvariantCulture) + 3;
        var wrong = await Assert.ThrowsAsync<VecMigrateException>(() => third.Read("@" + middle).ToListAsync().AsTask());
        Assert.Equal("FileUnreadable", wrong.ErrorId);
        var outside = await Assert.ThrowsAsync<VecMigrateException>(() => third.Read(first[0].Position).ToListAsync().AsTask());
        Assert.Equal("FilePositionInvalid", outside.ErrorId);
    }

    [Fact]
    public async Task A_jsonl_file_cut_short_is_refused_by_the_part_that_holds_its_last_line()
    {
        var path = Path.Combine(_dir, "cut.jsonl");
        await FileTestKit.WriteAsync(path, FileTestKit.Records(200));
        var bytes = await File.ReadAllBytesAsync(path);
        var end = Array.LastIndexOf(bytes, (byte)'\n', bytes.Length - 2) + 1; // the end line's start
        await File.WriteAllBytesAsync(path, bytes[..end]);
        var source = FileSourceSpec.Source(path);
        var bounds = await source.Split!(3, default);
        await source.Narrow!(bounds[0]).Read(null).ToListAsync();
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => source.Narrow!(bounds[2]).Read(null).ToListAsync().AsTask());
        Assert.Equal("FileTruncated", ex.ErrorId);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void A_gzip_file_cannot_be_split_and_says_why()
    {
        var source = FileSourceSpec.Source(Path.Combine(_dir, "z.jsonl.gz"));
        Assert.Null(source.Split);
        Assert.Contains("gzip", source.CannotSplitBecause);
    }

    // ------------------------------------------------------------------ lanes into Postgres

    private static readonly SourceSchema Simple = new(SourceKind.Qdrant, "docs", IdKinds.Unsigned,
        [new VectorField("", VectorKind.Dense, 8, DistanceMetric.Dot)], hasNamespaces: false, payloadName: "payload");

    /// <summary>Records a Postgres table keeps exactly: u64 ids, 8 floats, a payload.</summary>
    internal static IEnumerable<VectorRecord> SimpleRecords(int count, int seed)
    {
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var v = new float[8];
            for (var k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() * 2 - 1);
            yield return new VectorRecord((ulong)i * 7 + 3, new Dictionary<string, VectorValue> { [""] = new DenseVector(v) },
                JsonPayload.FromString($$"""{"i":{{i}},"t":"doc {{i}} ü"}"""))
            {
                Schema = Simple,
                Origin = new RecordOrigin(SourceKind.Qdrant, "http://qdrant.example:6333", "docs"),
                Position = i.ToString(CultureInfo.InvariantCulture),
            };
        }
    }

    internal static async Task<string> DigestOfAsync(MigrationSource source)
    {
        var d = new VectorDigest();
        await foreach (var r in source.Read(null)) d.Add(r);
        return $"{d.Count}:{d.Value}";
    }

    internal static MigrationSource Table(string cs) => PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = "dst" });

    private static Task<MigrationSummary> LanesAsync(string path, string cs, int lanes, CancellationToken ct = default) =>
        PartitionedMigration.RunAsync(FileSourceSpec.Source(path),
            () => new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "dst", BatchSize = 50 }),
            new PgPartitionLedger(cs), new PartitionedMigrationOptions { Checkpoint = "file", Resume = true, Lanes = lanes }, cancellationToken: ct);

    [Theory]
    [InlineData("parquet")]
    [InlineData("jsonl")]
    public async Task Three_lanes_copy_a_file_into_Postgres_digest_exact(string ext)
    {
        var path = Path.Combine(_dir, $"l.{ext}");
        await FileTestKit.WriteAsync(path, SimpleRecords(3000, 1), batchSize: 250);
        var cs = await pg.NewDatabaseAsync();
        var summary = await LanesAsync(path, cs, 3);
        Assert.True(summary.Completed);
        Assert.Equal(3, summary.PartitionCount);
        Assert.Equal(3000, summary.RecordsWritten);
        Assert.All(summary.Parts!, p => Assert.InRange(p.RecordsWritten, 750, 1250));
        Assert.Equal(await DigestOfAsync(FileSourceSpec.Source(path)), await DigestOfAsync(Table(cs)));
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("jsonl")]
    public async Task Three_lanes_killed_at_random_moments_and_resumed_leave_the_table_digest_exact(string ext)
    {
        var path = Path.Combine(_dir, $"k.{ext}");
        await FileTestKit.WriteAsync(path, SimpleRecords(20_000, 2), batchSize: 500);
        var cs = await pg.NewDatabaseAsync();
        var rng = new Random(ext.Length);
        MigrationSummary? last = null;
        var kills = 0;
        for (var run = 0; run < 80 && last is not { Completed: true }; run++)
        {
            using var kill = Cancellation.After(TimeSpan.FromMilliseconds(rng.Next(50, 600)));
            try
            {
                // Append: a record written twice would fail its batch on the primary key.
                last = await LanesAsync(path, cs, 3, kill.Token);
            }
            catch (Exception ex) when (kill.IsCancellationRequested && (ex is OperationCanceledException || ex.InnerException is OperationCanceledException || ex is VecMigrateException))
            {
                kills++;
                output.WriteLine($"run {run}: killed ({ex.GetType().Name})");
            }
        }
        Assert.True(kills >= 3, $"only {kills} run(s) were killed part way");
        Assert.True(last!.Completed);
        Assert.Equal(await DigestOfAsync(FileSourceSpec.Source(path)), await DigestOfAsync(Table(cs)));
        Assert.Equal(20_000, await PgWriteModesScalar(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'file'"));
    }

    private static Task<long> PgWriteModesScalar(string cs, string sql) => Postgres.PgWriteModesTests.ScalarAsync<long>(cs, sql);
}
