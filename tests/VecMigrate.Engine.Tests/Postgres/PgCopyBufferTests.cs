using System.Buffers.Binary;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>The binary COPY bytes the writer sends: header, tuples, NULLs, lengths, trailer, all big-endian.</summary>
public sealed class PgCopyBufferTests
{
    [Fact]
    public void The_header_is_the_signature_then_zero_flags_and_no_extension()
    {
        var buf = new PgCopyBuffer();
        buf.WriteHeader();
        byte[] expected = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(expected, buf.Written.ToArray());
        Assert.Equal(PgCopyBuffer.HeaderSize, buf.Length);
    }

    [Fact]
    public void The_trailer_is_a_field_count_of_minus_one()
    {
        var buf = new PgCopyBuffer();
        buf.WriteTrailer();
        Assert.Equal(new byte[] { 0xFF, 0xFF }, buf.Written.ToArray());
    }

    [Fact]
    public void A_tuple_is_its_field_count_then_each_length_and_bytes_with_minus_one_for_null()
    {
        var buf = new PgCopyBuffer();
        buf.StartTuple(4);
        buf.WriteField(new byte[] { 1, 2, 3 });
        buf.WriteNull();
        buf.WriteField((ReadOnlyMemory<byte>?)null);
        buf.WriteField(ReadOnlySpan<byte>.Empty);
        byte[] expected =
        [
            0x00, 0x04,
            0x00, 0x00, 0x00, 0x03, 1, 2, 3,
            0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF,
            0x00, 0x00, 0x00, 0x00,
        ];
        Assert.Equal(expected, buf.Written.ToArray());
    }

    [Fact]
    public void Text_is_written_as_its_utf8_bytes_with_their_length()
    {
        var buf = new PgCopyBuffer();
        buf.WriteText("aé€"); // 1 + 2 + 3 bytes
        Assert.Equal(new byte[] { 0, 0, 0, 6, (byte)'a', 0xC3, 0xA9, 0xE2, 0x82, 0xAC }, buf.Written.ToArray());
        buf.Clear();
        buf.WriteText("");
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, buf.Written.ToArray());
    }

    [Fact]
    public void A_field_filled_in_place_gets_its_real_length()
    {
        var buf = new PgCopyBuffer();
        var room = buf.BeginField(32);
        var n = PgVectorCodec.WriteNumeric(room, 12345UL);
        buf.EndField(n);
        var written = buf.Written.ToArray();
        Assert.Equal(4 + n, written.Length);
        Assert.Equal(n, BinaryPrimitives.ReadInt32BigEndian(written));
        var direct = new byte[32];
        Assert.Equal(direct.AsSpan(0, PgVectorCodec.WriteNumeric(direct, 12345UL)).ToArray(), written[4..]);
    }

    [Fact]
    public void The_buffer_grows_for_large_fields_keeping_what_was_written_and_clear_keeps_nothing()
    {
        var buf = new PgCopyBuffer(16);
        buf.WriteHeader();
        var big = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        buf.StartTuple(1);
        buf.WriteField(big);
        buf.WriteTrailer();
        var written = buf.Written.ToArray();
        Assert.Equal(PgCopyBuffer.HeaderSize + 2 + 4 + big.Length + 2, written.Length);
        Assert.Equal((byte)'P', written[0]);
        Assert.Equal(1, BinaryPrimitives.ReadInt16BigEndian(written.AsSpan(PgCopyBuffer.HeaderSize)));
        Assert.Equal(big.Length, BinaryPrimitives.ReadInt32BigEndian(written.AsSpan(PgCopyBuffer.HeaderSize + 2)));
        Assert.Equal(big, written.AsSpan(PgCopyBuffer.HeaderSize + 6, big.Length).ToArray());
        Assert.Equal(-1, BinaryPrimitives.ReadInt16BigEndian(written.AsSpan(written.Length - 2)));
        buf.Clear();
        Assert.Equal(0, buf.Length);
        Assert.True(buf.Written.IsEmpty);
    }
}
