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
        long size = PgCopyBuffer.HeaderSize + PgCopyBuffer.TrailerSize;
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
        // The engine's own COPY tuple writer, as the writer uses it, and its codecs.
        var buf = new PgCopyBuffer(1 << 20);
        buf.WriteHeader();
        var vectorSize = PgVectorCodec.VectorSize(Dims);
        for (var id = first; id <= last; id++)
        {
            buf.StartTuple(3);
            buf.EndField(PgVectorCodec.WriteNumeric(buf.BeginField(32), id));
            buf.EndField(PgVectorCodec.WriteVector(buf.BeginField(vectorSize), VectorOf(id)));
            var payload = PayloadOf(id);
            var room = buf.BeginField(payload.Length + 1);
            room[0] = 1; // jsonb binary version
            payload.CopyTo(room[1..]);
            buf.EndField(payload.Length + 1);
            if (buf.Length >= 1 << 20)
            {
                file.Write(buf.Written.Span);
                buf.Clear();
            }
        }
        buf.WriteTrailer();
        file.Write(buf.Written.Span);
        file.Flush();
        return file.Length;
    }
}
