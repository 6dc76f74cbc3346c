using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// Test-VectorMigration's engine: migrations damaged in each way are caught and reported precisely, an intact one
/// passes whatever the order, and a sample finds a damage rate of 1% reliably.
/// </summary>
public sealed class MigrationCheckTests
{
    private static VectorRecord Record(int i, string? ns = null, float[]? vector = null, string? payload = null) =>
        new(PointId.FromString($"doc-{i}"), new Dictionary<string, VectorValue> { [""] = new DenseVector(vector ?? [i, 0.5f, -i, 1f / (i + 1)]) },
            JsonPayload.FromString(payload ?? $$$"""{"title":"doc {{{i}}}","tags":["a","b"],"meta":{"year":{{{2000 + i % 20}}}}}"""))
        { Namespace = ns };

    private static List<VectorRecord> Records(int count) => Enumerable.Range(1, count).Select(i => Record(i, i % 3 == 0 ? "prod" : null)).ToList();

    private static MigrationSource Side(string name, IEnumerable<VectorRecord> records) =>
        new(name, _ => records.ToAsyncEnumerable());

    private static Task<MigrationCheckResult> CheckAsync(IEnumerable<VectorRecord> source, IEnumerable<VectorRecord> target, int? sample = null) =>
        MigrationCheck.RunAsync(Side("source", source), Side("target", target), new MigrationCheckOptions { Sample = sample, Seed = 7 });

    [Fact]
    public async Task An_intact_migration_of_10000_records_in_another_order_is_equal()
    {
        var records = Records(10_000);
        var shuffled = records.OrderBy(r => r.Id.ToString().GetHashCode(StringComparison.Ordinal)).ToList();
        var result = await CheckAsync(records, shuffled);
        Assert.True(result.Equal);
        Assert.Equal(10_000, result.SourceCount);
        Assert.Equal(10_000, result.TargetCount);
        Assert.Empty(result.Differences);
    }

    [Fact]
    public async Task A_deleted_row_is_missing_by_key()
    {
        var records = Records(2000);
        var result = await CheckAsync(records, records.Where(r => r.Id.ToString() != "doc-42"));
        Assert.False(result.Equal);
        Assert.Equal((1L, 0L, 0L), (result.Missing, result.Extra, result.Changed));
        Assert.Equal("prod/s:doc-42", Assert.Single(result.Differences).Key); // every third record is in namespace prod
        Assert.Equal("Missing", result.Differences[0].Kind);
    }

    [Fact]
    public async Task An_added_row_is_extra_by_key()
    {
        var records = Records(2000);
        var result = await CheckAsync(records, records.Append(Record(99_999)));
        Assert.Equal((0L, 1L, 0L), (result.Missing, result.Extra, result.Changed));
        Assert.Equal("s:doc-99999", Assert.Single(result.Differences).Key);
    }

    [Fact]
    public async Task One_float_changed_in_one_vector_is_named_with_its_largest_difference()
    {
        var records = Records(2000);
        var damaged = records.Select(r => r.Id.ToString() == "doc-100"
            ? Record(100, null, [100, 0.5f, -100, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1f / 101) + 1)])
            : r);
        var result = await CheckAsync(records, damaged);
        Assert.Equal((0L, 0L, 1L), (result.Missing, result.Extra, result.Changed));
        var d = Assert.Single(result.Differences);
        Assert.Equal("s:doc-100", d.Key);
        Assert.Equal(["vectors.(unnamed) (1 of 4 values)"], d.Paths);
        Assert.True(d.MaxVectorDifference is > 0 and < 1e-8, $"{d.MaxVectorDifference}");
    }

    [Fact]
    public async Task One_payload_field_changed_is_named_by_its_path()
    {
        var records = Records(2000);
        var damaged = records.Select(r => r.Id.ToString() == "doc-7"
            ? Record(7, null, null, """{"title":"doc 7","tags":["a","c"],"meta":{"year":2007}}""")
            : r);
        var result = await CheckAsync(records, damaged);
        var d = Assert.Single(result.Differences);
        Assert.Equal("Changed", d.Kind);
        Assert.Equal(["payload.tags[1]"], d.Paths);
        Assert.Null(d.MaxVectorDifference);
    }

    [Fact]
    public async Task A_changed_id_is_one_missing_and_one_extra()
    {
        var records = Records(2000);
        var damaged = records.Select(r => r.Id.ToString() == "doc-11" ? Record(11_000_011) : r);
        var result = await CheckAsync(records, damaged);
        Assert.Equal((1L, 1L, 0L), (result.Missing, result.Extra, result.Changed));
        Assert.Equal(["s:doc-11", "s:doc-11000011"], result.Differences.Select(d => d.Key));
    }

    [Fact]
    public async Task A_swapped_namespace_is_caught_as_the_record_under_another_key()
    {
        var records = Records(2000);
        // doc-9 is in "prod"; on the target it landed in the default namespace.
        var damaged = records.Select(r => r.Id.ToString() == "doc-9" ? Record(9, null) : r);
        var result = await CheckAsync(records, damaged);
        Assert.Equal((1L, 1L, 0L), (result.Missing, result.Extra, result.Changed));
        Assert.Contains(result.Differences, d => d is { Kind: "Missing", Key: "prod/s:doc-9" });
        Assert.Contains(result.Differences, d => d is { Kind: "Extra", Key: "s:doc-9" });
    }

    [Fact]
    public async Task A_sample_of_1000_finds_a_damage_rate_of_one_percent()
    {
        var records = Records(20_000);
        // Every 100th record changed: 1%.
        var damaged = records.Select((r, i) => i % 100 == 50 ? Record(i + 1, r.Namespace, null, """{"title":"damaged"}""") : r).ToList();
        var result = await CheckAsync(records, damaged, sample: 1000);
        Assert.False(result.Equal);
        Assert.Equal(1000, result.Sample);
        Assert.Equal(0, result.Missing);
        // A 1% rate in a uniform sample of 1,000: about 10 (the seed is fixed, so this is the same every run).
        Assert.InRange(result.Changed, 4, 20);
        Assert.All(result.Differences, d => Assert.Contains("payload.", string.Join(",", d.Paths)));

        var intact = await CheckAsync(records, records, sample: 1000);
        Assert.True(intact.Equal);
        Assert.Equal(1000, intact.Sample);
    }

    [Fact]
    public async Task Normalized_vectors_and_Qdrant_ids_compare_in_the_form_the_target_stores()
    {
        var records = Records(500);
        // A Qdrant Cosine collection: unit vectors, UUIDv5 ids, the namespace only in the payload (left out here).
        var asQdrant = records.Select(r => new VectorRecord(VecMigrate.Engine.Qdrant.QdrantPointIds.ToQdrant(r.Id, r.Namespace),
            new Dictionary<string, VectorValue> { [""] = new DenseVector(VectorMath.Normalize(((DenseVector)r.Vectors[""]).Values)) }, r.Payload)).ToList();
        var result = await MigrationCheck.RunAsync(Side("source", records), Side("target", asQdrant),
            new MigrationCheckOptions { NormalizeDense = true, QdrantIds = true });
        Assert.True(result.Equal, string.Join("; ", result.Differences));
        var plain = await MigrationCheck.RunAsync(Side("source", records), Side("target", asQdrant), new MigrationCheckOptions());
        Assert.False(plain.Equal);
    }
}
