using System.Buffers.Binary;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>The row encoder's vectorized checks and codecs find what the element-by-element ones found.</summary>
public sealed class PgRowEncoderTests
{
    private static PgRowEncoder Encoder(int dims, PgVectorType type = PgVectorType.Vector)
    {
        var schema = new SourceSchema(SourceKind.Qdrant, "c", IdKinds.Unsigned, [new VectorField("", VectorKind.Dense, dims)], false, "payload");
        return new PgRowEncoder(PgTablePlan.ForSchema("public", "t", schema, null, null, type), 1, 2);
    }

    private static VectorRecord Record(float[] values) => new(1UL, new Dictionary<string, VectorValue> { [""] = new DenseVector(values) }, null);

    public static TheoryData<int> Positions => [0, 1, 7, 8, 9, 500, 1016, 1020, 1023];

    [Theory]
    [MemberData(nameof(Positions))]
    public void A_non_finite_value_anywhere_in_a_long_vector_is_refused_with_its_position(int at)
    {
        var encoder = Encoder(1024);
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00001)) })
        {
            var values = Enumerable.Range(0, 1024).Select(i => (float)Math.Sin(i)).ToArray();
            values[at] = bad;
            var ex = Assert.Throws<RecordRejectedException>(() => encoder.Encode(Record(values)));
            Assert.Equal("PgVectorNotFinite", ex.ErrorId);
            Assert.Contains($"at position {at}", ex.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Positions))]
    public void A_value_beyond_halfvec_range_anywhere_is_refused_and_the_range_itself_is_not(int at)
    {
        var encoder = Encoder(1024, PgVectorType.HalfVec);
        var values = Enumerable.Range(0, 1024).Select(i => i % 2 == 0 ? 65504f : -65504f).ToArray();
        encoder.Encode(Record(values)); // ±65504 is halfvec's largest
        values[at] = at % 2 == 0 ? 65504.01f : -65505f;
        var ex = Assert.Throws<RecordRejectedException>(() => encoder.Encode(Record(values)));
        Assert.Equal("PgHalfVecOverflow", ex.ErrorId);
        Assert.Contains($"at position {at}", ex.Message);
    }

    [Fact]
    public void Extreme_finite_values_pass_the_check()
    {
        var values = new float[1024];
        for (var i = 0; i < values.Length; i++) values[i] = (i % 4) switch { 0 => float.MaxValue, 1 => float.MinValue, 2 => float.Epsilon, _ => -0f };
        Encoder(1024).Encode(Record(values));
    }

    [Fact]
    public void Vector_codec_writes_and_reads_every_bit_pattern_big_endian()
    {
        var random = new Random(8);
        foreach (var dims in new[] { 1, 3, 8, 17, 1024, 1536 })
        {
            var values = Enumerable.Range(0, dims).Select(_ => BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31))).ToArray();
            var bytes = new byte[PgVectorCodec.VectorSize(dims)];
            Assert.Equal(bytes.Length, PgVectorCodec.WriteVector(bytes, values));
            Assert.Equal(dims, BinaryPrimitives.ReadInt16BigEndian(bytes));
            Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(2)));
            for (var i = 0; i < dims; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i)));
            var back = PgVectorCodec.ReadVector(bytes);
            Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
