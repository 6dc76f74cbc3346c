using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Postgres.PgReadBack;

namespace VecMigrate.Engine.Tests.Pipeline;

[Collection(PostgresCollection.Name)]
public sealed class VectorDigestTests(PostgresFixture pg)
{
    private static readonly SourceSchema S = Schema(IdKinds.Unsigned | IdKinds.Uuid, new VectorField("", VectorKind.Dense, 3, DistanceMetric.Cosine));

    private static List<VectorRecord> Make(int n, int seed = 5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(i => Dense(i % 4 == 0 ? Guid.NewGuid() : (ulong)i, RandomVector(rng, 3), $$$"""{"i":{{{i}}},"x":[1.0,{"b":true}]}""", S)).ToList();
    }

    private static VectorDigest Digest(IEnumerable<VectorRecord> records, IEnumerable<int>? buckets = null)
    {
        var d = new VectorDigest(buckets);
        foreach (var r in records) d.Add(r);
        return d;
    }

    [Fact]
    public async Task A_table_written_from_records_has_the_digest_of_those_records_whatever_the_order()
    {
        var records = Make(3000);
        var cs = await pg.NewDatabaseAsync();
        await using (var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = "t" }))
        {
            foreach (var r in records) await w.WriteAsync(r);
            await w.FlushAsync();
        }
        var target = new VectorDigest();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = "t" }).ReadAsync()) target.Add(r);
        var cmp = VectorDigest.Compare(Digest(records.AsEnumerable().Reverse()), target);
        Assert.True(cmp.Equal, $"differing buckets: {cmp.DifferingBuckets.Count}");
        Assert.Equal(3000, cmp.TargetCount);
    }

    [Fact]
    public void One_changed_bit_a_missing_record_and_an_extra_one_are_each_found_and_named()
    {
        var source = Make(500);
        var target = source.Select(r => r).ToList();
        var changed = target[10];
        var v = ((DenseVector)changed.Vectors[""]).Values.ToArray();
        v[1] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v[1]) ^ 1);
        target[10] = new VectorRecord(changed.Id, new Dictionary<string, VectorValue> { [""] = new DenseVector(v) }, changed.Payload);
        var missing = target[20];
        target.RemoveAt(20);
        target.Add(Dense(999_999UL, [1, 2, 3], "{}", S));

        var cmp = VectorDigest.Compare(Digest(source), Digest(target));
        Assert.False(cmp.Equal);
        Assert.InRange(cmp.DifferingBuckets.Count, 1, 3);

        var detail = VectorDigest.Compare(Digest(source, cmp.DifferingBuckets), Digest(target, cmp.DifferingBuckets));
        Assert.Equal([VectorDigest.KeyOf(changed)], detail.Changed!);
        Assert.Equal([VectorDigest.KeyOf(missing)], detail.Missing!);
        Assert.Equal(["u:999999"], detail.Extra!);
    }

    [Fact]
    public void Payloads_equal_in_meaning_digest_alike_and_different_ones_do_not()
    {
        VectorRecord P(string json) => Dense(1UL, [1, 2, 3], json, S);
        Assert.Equal(Digest([P("""{"a":1.0,"b":[1e2,"x"]}""")]).Value, Digest([P("""{"b": [100, "x"], "a": 1}""")]).Value);
        Assert.NotEqual(Digest([P("""{"a":1}""")]).Value, Digest([P("""{"a":"1"}""")]).Value);
        Assert.NotEqual(Digest([P("""{"a":1}""")]).Value, Digest([Dense("1", [1, 2, 3], """{"a":1}""", S)]).Value);
    }
}
