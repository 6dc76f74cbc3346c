using VecMigrate.Engine.Files;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Files;

/// <summary>Records of every shape a file must keep, and helpers to write and read them.</summary>
internal static class FileTestKit
{
    public static SourceSchema Schema { get; } = new(SourceKind.Qdrant, "docs", IdKinds.Unsigned | IdKinds.Uuid | IdKinds.String,
        [
            new VectorField("", VectorKind.Dense, 4, DistanceMetric.Cosine),
            new VectorField("image.v1", VectorKind.Dense, 3, DistanceMetric.Euclid, "float16"),
            new VectorField("bm25", VectorKind.Sparse, null, DistanceMetric.Dot),
            new VectorField("colbert", VectorKind.Multi, 2, DistanceMetric.Dot),
        ], hasNamespaces: true, payloadName: "payload");

    public static RecordOrigin Origin { get; } = new(SourceKind.Qdrant, "http://qdrant.example:6333", "docs");

    /// <summary>
    /// <paramref name="count"/> records mixing u64 (0, 2^63, 2^64-1), UUID and text ids (unicode), namespaces (none,
    /// default "", named), payloads with numbers beyond 2^53, unicode and \u0000, missing and empty vectors, and floats
    /// at their edges (-0, subnormal, max).
    /// </summary>
    public static List<VectorRecord> Records(int count, int seed = 1)
    {
        var rng = new Random(seed);
        var edges = new[] { -0.0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-38f, 0.1f, 1f / 3 };
        var records = new List<VectorRecord>(count);
        for (var i = 0; i < count; i++)
        {
            PointId id = (i % 4) switch
            {
                0 => i == 0 ? 0UL : i == 4 ? ulong.MaxValue : i == 8 ? 1UL << 63 : (ulong)i * 1_000_003,
                1 => new Guid(rng.Next(), (short)i, (short)(i >> 16), [(byte)i, 2, 3, 4, 5, 6, 7, (byte)(i >> 8)]),
                2 => $"doc-{i}-ünï 🚀 \"q\"",
                _ => (ulong)i,
            };
            var v = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
            if (i % 7 != 3)
            {
                var dense = new float[4];
                for (var k = 0; k < 4; k++) dense[k] = i % 5 == 0 ? edges[(i + k) % edges.Length] : (float)(rng.NextDouble() * 2 - 1);
                v[""] = new DenseVector(dense);
            }
            if (i % 2 == 0) v["image.v1"] = new DenseVector([(float)rng.NextDouble(), -1.5f, i]);
            if (i % 3 != 0)
            {
                var nnz = i % 6; // 0 gives an empty sparse vector
                var idx = Enumerable.Range(0, nnz).Select(k => (uint)(k * 1_000_000 + i % 97)).ToArray();
                if (nnz > 0) idx[^1] = uint.MaxValue - (uint)i;
                v["bm25"] = new SparseVector(idx, idx.Select(_ => (float)rng.NextDouble()).ToArray());
            }
            if (i % 5 != 1)
            {
                var inner = i % 4; // 0 gives an empty multivector
                v["colbert"] = new MultiVector(Enumerable.Range(0, inner).Select(_ => new[] { (float)rng.NextDouble(), -(float)rng.NextDouble() }).ToArray());
            }
            string? payload = (i % 6) switch
            {
                0 => null,
                1 => "{}",
                2 => """{"big":9007199254740993,"huge":123456789012345678901234567890,"neg":-18446744073709551615,"f":1.0000000000000002,"e":1E+300}""",
                3 => $$"""{"text":"ünïcödé 漢字 🚀 \u0000 nul","esc":"a\"b\\c\n","n":{{i}}}""",
                4 => """{"z":1,"a":[1,{"b":null,"c":[true,false]}],"m":{"y":2,"x":1}}""",
                _ => $$"""{  "spaced" : [ 1 , 2 ] ,"i": {{i}} }""",
            };
            records.Add(new VectorRecord(id, v, payload is null ? null : JsonPayload.FromString(payload))
            {
                Namespace = (i % 3) switch { 0 => null, 1 => "", _ => "ns-" + (i % 5) },
                Schema = Schema,
                Origin = Origin,
                Position = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        return records;
    }

    public static async IAsyncEnumerable<VectorRecord> Stream(IEnumerable<VectorRecord> records)
    {
        foreach (var r in records)
        {
            await Task.Yield();
            yield return r;
        }
    }

    /// <summary>Writes <paramref name="records"/> with a <see cref="FileSink"/> and completes the file.</summary>
    public static async Task<VectorFileInfo> WriteAsync(string path, IEnumerable<VectorRecord> records, int batchSize = 100)
    {
        await using var sink = new FileSink(new FileSinkOptions(path) { BatchSize = batchSize });
        foreach (var r in records) await sink.WriteAsync(r);
        await sink.CompleteAsync();
        return sink.Info!;
    }

    public static async Task<List<VectorRecord>> ReadAsync(string path, string? after = null)
    {
        var reader = await FileRecordReader.OpenAsync(path);
        var list = new List<VectorRecord>();
        await foreach (var r in reader.ReadAsync(after)) list.Add(r);
        return list;
    }

    public static string TempFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vecmigrate-files-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
