using System.Buffers;
using System.Text.Json;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Pinecone;

public sealed class PineconeFloatTests
{
    /// <summary>Edge values plus random bit patterns (every finite float32 is fair game, subnormals included).</summary>
    internal static float[] NastyFloats(int count, int seed)
    {
        var list = new List<float>
        {
            0f, -0f, float.Epsilon, -float.Epsilon, BitConverter.Int32BitsToSingle(0x007FFFFF), BitConverter.Int32BitsToSingle(0x00000123),
            1.17549435E-38f, float.MaxValue, float.MinValue, 1f / 3, 0.1f, 16777217f, 3.4028233E+38f, -1.401298E-45f, 1e-40f,
        };
        var rng = new Random(seed);
        while (list.Count < count)
        {
            var f = BitConverter.Int32BitsToSingle(rng.Next(int.MinValue, int.MaxValue));
            if (float.IsFinite(f)) list.Add(f);
        }
        return list.ToArray();
    }

    private static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public async Task Dense_and_sparse_float_bits_survive_fetch_exactly()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        const int dim = 64;
        var index = await kit.StandIn.CreateIndexAsync("bits", dim, "dotproduct");
        var expected = new Dictionary<string, (float[] Dense, float[] Sparse)>();
        for (var r = 0; r < 40; r++)
        {
            var dense = NastyFloats(dim, r).Skip(r % 15).Concat(NastyFloats(dim, r + 100)).Take(dim).ToArray();
            var sparse = NastyFloats(25, r + 1000).Skip(r % 15).Take(10).ToArray();
            var id = $"r{r:D2}";
            index.Seed("", id, dense, Enumerable.Range(0, 10).Select(i => (uint)(i * 7)).ToArray(), sparse);
            expected[id] = (dense, sparse);
        }

        var records = await PineconeTestKit.ReadAllAsync(kit.Source("bits"), new PineconeReadOptions { PageSize = 9 });

        Assert.Equal(40, records.Count);
        foreach (var record in records)
        {
            var (dense, sparse) = expected[record.Id.AsString];
            Assert.Equal(Bits(dense), Bits(record.Embedding!));
            Assert.Equal(Bits(sparse), Bits(((SparseVector)record.Vectors["sparse"]).Values));
        }
        // The edge cases really were on the wire: negative zero and a subnormal.
        Assert.Contains(records, r => r.Embedding!.Any(f => BitConverter.SingleToInt32Bits(f) == int.MinValue));
        Assert.Contains(records, r => r.Embedding!.Any(f => f != 0 && float.IsSubnormal(f)));
    }

    [Fact]
    public async Task Float_bits_written_by_a_client_survive_upsert_into_the_stand_in()
    {
        await using var kit = await PineconeTestKit.StartAsync();
        var index = await kit.StandIn.CreateIndexAsync("up", 32);
        var values = NastyFloats(32, 5);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("vectors");
            w.WriteStartObject();
            w.WriteString("id", "u1");
            w.WriteStartArray("values");
            foreach (var f in values) w.WriteNumberValue(f);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        using var http = kit.RawClient();
        var content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new("application/json");

        var answer = await http.PostAsync(new Uri(index.Url, "vectors/upsert"), content);

        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        Assert.Equal(Bits(values), Bits(index.Get("", "u1")!.Values!));
        var fetched = await kit.Client.FetchAsync(index.Url, "", ["u1"]);
        Assert.Equal(Bits(values), Bits(fetched["u1"].Embedding!));
    }
}
