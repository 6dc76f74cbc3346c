using System.Buffers.Binary;
using System.Text;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;

namespace VecMigrate.Benchmark;

/// <summary>
/// The benchmark's points, made from their ids alone so that the stand-in, the COPY file and the checks agree:
/// ids 1..N; vector i is unit-length (as Qdrant keeps Cosine vectors) from a seeded generator, drawn from a pool
/// of <see cref="Distinct"/> vectors (point i gets vector (i-1) mod Distinct) so that a million points do not need
/// a million vectors in memory; a payload of about 200 bytes of ordinary JSON per point.
/// </summary>
internal sealed class BenchData
{
    private readonly float[][] _pool;

    public BenchData(long points, int dims, int distinct)
    {
        Points = points;
        Dims = dims;
        Distinct = (int)Math.Min(points, distinct);
        _pool = new float[Distinct][];
        Parallel.For(0, Distinct, k => _pool[k] = MakeVector(k, dims));
    }

    public long Points { get; }
    public int Dims { get; }
    public int Distinct { get; }

    public float[] VectorOf(ulong id) => _pool[(int)((id - 1) % (ulong)Distinct)];

    private static float[] MakeVector(int k, int dims)
    {
        var rng = new Random(unchecked(1_000_003 * (k + 1)));
        var v = new float[dims];
        double norm = 0;
        for (var i = 0; i < dims; i++)
        {
            // Sum of uniforms: roughly normal, like the coordinates of real embeddings.
            var x = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
            v[i] = (float)x;
            norm += x * x;
        }
        var scale = 1 / Math.Sqrt(norm);
        for (var i = 0; i < dims; i++) v[i] = (float)(v[i] * scale);
        return v;
    }

    private static readonly string[] Words = ["alpha", "beta", "gamma", "delta", "omega", "sigma"];

    public static byte[] PayloadOf(ulong id)
    {
        var t = Words[(int)(id % 6)];
        var json = $$"""{"title":"Document {{id:D7}}: notes on moving vectors","source":"benchmark","lang":"en","n":{{id}},"score":{{(id % 1000) / 1000.0:0.000}},"tags":["{{t}}","beta"],"created":"2025-06-01T12:00:00Z","ok":{{(id % 2 == 0 ? "true" : "false")}}}""";
        return Encoding.UTF8.GetBytes(json);
    }

    public IEnumerable<VectorRecord> Records()
    {
        var vectors = _pool.Select(v => new DenseVector(v)).ToArray();
        for (ulong id = 1; id <= (ulong)Points; id++)
        {
            var dense = vectors[(int)((id - 1) % (ulong)Distinct)];
            yield return new VectorRecord(id, new Dictionary<string, VectorValue>(1) { [""] = dense }, new JsonPayload(PayloadOf(id)));
        }
    }

    /// <summary>The size <see cref="WriteCopyFile"/> would write, without writing it.</summary>
    public long CopySize()
    {
        long size = 11 + 8 + 2; // header, trailer
        Span<byte> numeric = stackalloc byte[32];
        for (ulong id = 1; id <= (ulong)Points; id++)
        {
            size += 2 + 4 + PgVectorCodec.WriteNumeric(numeric, id) + 4 + PgVectorCodec.VectorSize(Dims) + 4 + 1 + PayloadOf(id).Length;
        }
        return size;
    }

    /// <summary>
    /// Writes the rows as a Postgres binary COPY file (id numeric, embedding vector, payload jsonb) with the engine's
    /// own codecs; returns the file's size.
    /// </summary>
    public long WriteCopyFile(string path) => WriteCopyFile(path, 1, (ulong)Points);

    /// <summary>The rows with ids <paramref name="first"/>..<paramref name="last"/> as a binary COPY file.</summary>
    public long WriteCopyFile(string path, ulong first, ulong last)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var output = new BufferedStream(file, 1 << 20);
        output.Write([(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0]);
        output.Write(stackalloc byte[8]); // flags, header extension length
        var row = new byte[64 + PgVectorCodec.VectorSize(Dims) + 4096];
        for (var id = first; id <= last; id++)
        {
            var span = row.AsSpan();
            BinaryPrimitives.WriteInt16BigEndian(span, 3);
            var at = 2;
            at += Field(span[at..], PgVectorCodec.WriteNumeric(span[(at + 4)..], id));
            at += Field(span[at..], PgVectorCodec.WriteVector(span[(at + 4)..], VectorOf(id)));
            var payload = PayloadOf(id);
            span[at + 4] = 1; // jsonb binary version
            payload.CopyTo(span[(at + 5)..]);
            at += Field(span[at..], payload.Length + 1);
            output.Write(row, 0, at);
        }
        Span<byte> trailer = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(trailer, -1);
        output.Write(trailer);
        output.Flush();
        return file.Length;

        static int Field(Span<byte> at, int length)
        {
            BinaryPrimitives.WriteInt32BigEndian(at, length);
            return 4 + length;
        }
    }
}
