using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// pgvector's binary wire formats, written here for the raw binary COPY of <see cref="PgVectorWriter"/>: the Pgvector
/// package (0.3.2, which works with Npgsql 9 and 10, and which the tests use to decode what was written) converts
/// values through Npgsql's typed COPY importer, and the raw COPY with these encoders used about a third of its CPU
/// in the benchmark's writer stage. All integers and floats are big-endian.
/// <list type="bullet">
/// <item><c>vector</c>: int16 dim, int16 0, dim × float4</item>
/// <item><c>halfvec</c>: int16 dim, int16 0, dim × binary16</item>
/// <item><c>sparsevec</c>: int32 dim, int32 nnz, int32 0, nnz × int32 zero-based ascending index, nnz × float4</item>
/// </list>
/// Arrays (<c>vector[]</c>) use Postgres's array format with the element type's oid.
/// </summary>
public static class PgVectorCodec
{
    /// <summary>pgvector's limits (VECTOR_MAX_DIM, HALFVEC_MAX_DIM, SPARSEVEC_MAX_DIM, SPARSEVEC_MAX_NNZ).</summary>
    public const int VectorMaxDim = 16000;
    public const int HalfVecMaxDim = 16000;
    public const int SparseVecMaxDim = 1_000_000_000;
    public const int SparseVecMaxNnz = 16000;

    public static int VectorSize(int dim) => 4 + 4 * dim;

    public static int HalfVecSize(int dim) => 4 + 2 * dim;

    public static int SparseVecSize(int nnz) => 12 + 8 * nnz;

    public static int WriteVector(Span<byte> dest, ReadOnlySpan<float> values)
    {
        BinaryPrimitives.WriteInt16BigEndian(dest, checked((short)values.Length));
        BinaryPrimitives.WriteInt16BigEndian(dest[2..], 0);
        WriteFloatsBigEndian(dest.Slice(4, values.Length * 4), values);
        return 4 + values.Length * 4;
    }

    /// <summary>Writes a halfvec; values are rounded to binary16 (nearest, ties to even) as pgvector does.</summary>
    public static int WriteHalfVec(Span<byte> dest, ReadOnlySpan<float> values)
    {
        BinaryPrimitives.WriteInt16BigEndian(dest, checked((short)values.Length));
        BinaryPrimitives.WriteInt16BigEndian(dest[2..], 0);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfBigEndian(dest[(4 + i * 2)..], (Half)values[i]);
        }
        return 4 + values.Length * 2;
    }

    public static int WriteSparseVec(Span<byte> dest, int dim, ReadOnlySpan<uint> indices, ReadOnlySpan<float> values)
    {
        var nnz = indices.Length;
        BinaryPrimitives.WriteInt32BigEndian(dest, dim);
        BinaryPrimitives.WriteInt32BigEndian(dest[4..], nnz);
        BinaryPrimitives.WriteInt32BigEndian(dest[8..], 0);
        var at = 12;
        for (var i = 0; i < nnz; i++, at += 4) BinaryPrimitives.WriteInt32BigEndian(dest[at..], checked((int)indices[i]));
        for (var i = 0; i < nnz; i++, at += 4) BinaryPrimitives.WriteSingleBigEndian(dest[at..], values[i]);
        return at;
    }

    /// <summary>The size of a one-dimensional array of <paramref name="count"/> vectors of <paramref name="elementSize"/> bytes.</summary>
    public static int ArraySize(int count, int elementSize) => count == 0 ? 12 : 20 + count * (4 + elementSize);

    /// <summary>Writes a one-dimensional array of vectors (no nulls) of the element type <paramref name="elementOid"/>.</summary>
    public static int WriteVectorArray(Span<byte> dest, uint elementOid, float[][] vectors, bool half)
    {
        if (vectors.Length == 0)
        {
            // An empty array has no dimensions.
            BinaryPrimitives.WriteInt32BigEndian(dest, 0);
            BinaryPrimitives.WriteInt32BigEndian(dest[4..], 0);
            BinaryPrimitives.WriteUInt32BigEndian(dest[8..], elementOid);
            return 12;
        }
        BinaryPrimitives.WriteInt32BigEndian(dest, 1);
        BinaryPrimitives.WriteInt32BigEndian(dest[4..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(dest[8..], elementOid);
        BinaryPrimitives.WriteInt32BigEndian(dest[12..], vectors.Length);
        BinaryPrimitives.WriteInt32BigEndian(dest[16..], 1);
        var at = 20;
        foreach (var v in vectors)
        {
            var len = half ? WriteHalfVec(dest[(at + 4)..], v) : WriteVector(dest[(at + 4)..], v);
            BinaryPrimitives.WriteInt32BigEndian(dest[at..], len);
            at += 4 + len;
        }
        return at;
    }

    /// <summary>Postgres's oid for float4 (the element type of real[]).</summary>
    public const uint Float4Oid = 700;

    public static int RealArraySize(int dim) => 20 + dim * 8;

    /// <summary>Writes a dense vector as a one-dimensional <c>real[]</c> (no nulls).</summary>
    public static int WriteRealArray(Span<byte> dest, ReadOnlySpan<float> values)
    {
        BinaryPrimitives.WriteInt32BigEndian(dest, 1);
        BinaryPrimitives.WriteInt32BigEndian(dest[4..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(dest[8..], Float4Oid);
        BinaryPrimitives.WriteInt32BigEndian(dest[12..], values.Length);
        BinaryPrimitives.WriteInt32BigEndian(dest[16..], 1);
        var at = 20;
        for (var i = 0; i < values.Length; i++, at += 8)
        {
            BinaryPrimitives.WriteInt32BigEndian(dest[at..], 4);
            BinaryPrimitives.WriteSingleBigEndian(dest[(at + 4)..], values[i]);
        }
        return at;
    }

    /// <summary>Reads a one-dimensional <c>real[]</c> without nulls.</summary>
    public static float[] ReadRealArray(ReadOnlySpan<byte> src)
    {
        var ndim = BinaryPrimitives.ReadInt32BigEndian(src);
        if (ndim == 0) return [];
        if (ndim != 1) throw new FormatException($"Expected a one-dimensional real[], got {ndim} dimensions.");
        var count = BinaryPrimitives.ReadInt32BigEndian(src[12..]);
        var result = new float[count];
        var at = 20;
        for (var i = 0; i < count; i++, at += 8)
        {
            if (BinaryPrimitives.ReadInt32BigEndian(src[at..]) != 4) throw new FormatException("A real[] vector holds a NULL element.");
            result[i] = BinaryPrimitives.ReadSingleBigEndian(src[(at + 4)..]);
        }
        return result;
    }

    public static float[] ReadVector(ReadOnlySpan<byte> src)
    {
        var dim = BinaryPrimitives.ReadInt16BigEndian(src);
        var result = new float[dim];
        var body = MemoryMarshal.Cast<byte, int>(src.Slice(4, dim * 4));
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(body, MemoryMarshal.Cast<float, int>(result.AsSpan()));
        else body.CopyTo(MemoryMarshal.Cast<float, int>(result.AsSpan()));
        return result;
    }

    /// <summary>Writes floats as big-endian float4s (a vectorized byte swap: a vector's bulk, a row at a time).</summary>
    private static void WriteFloatsBigEndian(Span<byte> dest, ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, int>(values);
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(bits, MemoryMarshal.Cast<byte, int>(dest));
        else bits.CopyTo(MemoryMarshal.Cast<byte, int>(dest));
    }

    public static float[] ReadHalfVec(ReadOnlySpan<byte> src)
    {
        var dim = BinaryPrimitives.ReadInt16BigEndian(src);
        var result = new float[dim];
        for (var i = 0; i < dim; i++) result[i] = (float)BinaryPrimitives.ReadHalfBigEndian(src[(4 + i * 2)..]);
        return result;
    }

    public static (int Dim, uint[] Indices, float[] Values) ReadSparseVec(ReadOnlySpan<byte> src)
    {
        var dim = BinaryPrimitives.ReadInt32BigEndian(src);
        var nnz = BinaryPrimitives.ReadInt32BigEndian(src[4..]);
        var indices = new uint[nnz];
        var values = new float[nnz];
        var at = 12;
        for (var i = 0; i < nnz; i++, at += 4) indices[i] = (uint)BinaryPrimitives.ReadInt32BigEndian(src[at..]);
        for (var i = 0; i < nnz; i++, at += 4) values[i] = BinaryPrimitives.ReadSingleBigEndian(src[at..]);
        return (dim, indices, values);
    }

    /// <summary>Reads a one-dimensional array of vector or halfvec values.</summary>
    public static float[][] ReadVectorArray(ReadOnlySpan<byte> src, bool half)
    {
        var ndim = BinaryPrimitives.ReadInt32BigEndian(src);
        if (ndim == 0) return [];
        if (ndim != 1) throw new FormatException($"Expected a one-dimensional array of vectors, got {ndim} dimensions.");
        var count = BinaryPrimitives.ReadInt32BigEndian(src[12..]);
        var result = new float[count][];
        var at = 20;
        for (var i = 0; i < count; i++)
        {
            var len = BinaryPrimitives.ReadInt32BigEndian(src[at..]);
            if (len < 0) throw new FormatException("A multivector holds a NULL element.");
            var elem = src.Slice(at + 4, len);
            result[i] = half ? ReadHalfVec(elem) : ReadVector(elem);
            at += 4 + len;
        }
        return result;
    }

    /// <summary>Postgres <c>numeric</c> binary form of a decimal, keeping its scale (9.90 stays 9.90).</summary>
    public static int WriteNumeric(Span<byte> dest, decimal value)
    {
        var text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var negative = text[0] == '-';
        if (negative) text = text[1..];
        var dot = text.IndexOf('.');
        var intPart = (dot < 0 ? text : text[..dot]).TrimStart('0');
        var fracPart = dot < 0 ? "" : text[(dot + 1)..];
        var dscale = fracPart.Length;
        var intPadded = intPart.PadLeft((intPart.Length + 3) / 4 * 4, '0');
        var fracPadded = fracPart.PadRight((fracPart.Length + 3) / 4 * 4, '0');
        var all = intPadded + fracPadded;
        var groups = new List<short>(all.Length / 4);
        for (var i = 0; i < all.Length; i += 4) groups.Add(short.Parse(all.AsSpan(i, 4), provider: System.Globalization.CultureInfo.InvariantCulture));
        var weight = intPadded.Length / 4 - 1;
        var first = 0;
        while (first < groups.Count && groups[first] == 0) { first++; weight--; }
        var last = groups.Count;
        while (last > first && groups[last - 1] == 0) last--;
        var count = last - first;
        if (count == 0)
        {
            weight = 0;
            negative = false;
        }
        BinaryPrimitives.WriteInt16BigEndian(dest, (short)count);
        BinaryPrimitives.WriteInt16BigEndian(dest[2..], (short)weight);
        BinaryPrimitives.WriteUInt16BigEndian(dest[4..], negative ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(dest[6..], (short)dscale);
        var at = 8;
        for (var i = first; i < last; i++, at += 2) BinaryPrimitives.WriteInt16BigEndian(dest[at..], groups[i]);
        return at;
    }

    /// <summary>Postgres <c>numeric</c> binary form of an unsigned 64-bit integer (base-10000 digits).</summary>
    public static int WriteNumeric(Span<byte> dest, ulong value)
    {
        Span<short> digits = stackalloc short[5];
        var n = 0;
        var v = value;
        while (v != 0)
        {
            digits[n++] = (short)(v % 10000);
            v /= 10000;
        }
        // Trailing zero digit groups are dropped (weight keeps the magnitude), as Postgres does.
        var low = 0;
        while (low < n && digits[low] == 0) low++;
        var count = n - low;
        BinaryPrimitives.WriteInt16BigEndian(dest, (short)count);
        BinaryPrimitives.WriteInt16BigEndian(dest[2..], (short)(n == 0 ? 0 : n - 1)); // weight
        BinaryPrimitives.WriteInt16BigEndian(dest[4..], 0); // sign: positive
        BinaryPrimitives.WriteInt16BigEndian(dest[6..], 0); // dscale
        var at = 8;
        for (var i = n - 1; i >= low; i--, at += 2) BinaryPrimitives.WriteInt16BigEndian(dest[at..], digits[i]);
        return at;
    }
}
