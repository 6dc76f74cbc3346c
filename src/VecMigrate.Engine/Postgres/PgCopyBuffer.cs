using System.Buffers.Binary;
using System.Text;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// A reused, growing byte buffer holding PostgreSQL binary COPY data: the header, tuples (an int16 field count,
/// then per field an int32 length, -1 for NULL, and that many bytes) and the trailer (int16 -1), all big-endian.
/// Field values are the types' binary wire values. Nothing is allocated per tuple once the buffer is big enough.
/// </summary>
internal sealed class PgCopyBuffer
{
    /// <summary>The 11-byte signature that opens binary COPY data.</summary>
    public static ReadOnlySpan<byte> Signature => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    /// <summary>Bytes of the header: signature, int32 flags, int32 header-extension length.</summary>
    public const int HeaderSize = 11 + 4 + 4;

    /// <summary>Bytes of the trailer.</summary>
    public const int TrailerSize = 2;

    private byte[] _buffer;
    private int _length;

    public PgCopyBuffer(int capacity = 128 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _buffer = new byte[capacity];
    }

    /// <summary>How many bytes are written and not yet taken.</summary>
    public int Length => _length;

    /// <summary>The bytes written since the last <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => new(_buffer, 0, _length);

    /// <summary>Forgets the written bytes (keeping the storage).</summary>
    public void Clear() => _length = 0;

    /// <summary>The header: signature, flags 0 (no OIDs), no header extension.</summary>
    public void WriteHeader()
    {
        var span = Reserve(HeaderSize);
        Signature.CopyTo(span);
        BinaryPrimitives.WriteInt32BigEndian(span[11..], 0);
        BinaryPrimitives.WriteInt32BigEndian(span[15..], 0);
        _length += HeaderSize;
    }

    /// <summary>The trailer that ends the data: a field count of -1.</summary>
    public void WriteTrailer() => WriteInt16(-1);

    /// <summary>Starts a tuple of <paramref name="fields"/> fields.</summary>
    public void StartTuple(short fields)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fields);
        WriteInt16(fields);
    }

    /// <summary>A NULL field (length -1, no bytes).</summary>
    public void WriteNull()
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);
        _length += 4;
    }

    /// <summary>A field of the given bytes (already the type's binary wire value).</summary>
    public void WriteField(ReadOnlySpan<byte> value)
    {
        var span = Reserve(4 + value.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, value.Length);
        value.CopyTo(span[4..]);
        _length += 4 + value.Length;
    }

    /// <summary>A field of the given bytes, or NULL when there are none.</summary>
    public void WriteField(ReadOnlyMemory<byte>? value)
    {
        if (value is { } bytes) WriteField(bytes.Span);
        else WriteNull();
    }

    /// <summary>A text field: the string's UTF-8 bytes.</summary>
    public void WriteText(string value)
    {
        var span = Reserve(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var n = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, n);
        _length += 4 + n;
    }

    /// <summary>
    /// Room for a field of at most <paramref name="maxLength"/> bytes, to be filled and then ended with
    /// <see cref="EndField"/> and its real length (so a value can be encoded in place).
    /// </summary>
    public Span<byte> BeginField(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        return Reserve(4 + maxLength)[4..];
    }

    /// <summary>Ends the field begun with <see cref="BeginField"/>: writes its length.</summary>
    public void EndField(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (_length + 4 + length > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(length), "The field is longer than the room begun for it.");
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), length);
        _length += 4 + length;
    }

    private void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);
        _length += 2;
    }

    /// <summary>The free space from the end of the written bytes, at least <paramref name="size"/> long.</summary>
    private Span<byte> Reserve(int size)
    {
        var need = (long)_length + size;
        if (need > _buffer.Length)
        {
            if (need > Array.MaxLength) throw new InvalidOperationException($"A COPY buffer cannot hold {need} bytes.");
            var bigger = new byte[(int)Math.Min(Array.MaxLength, Math.Max(need, 2L * _buffer.Length))];
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length);
    }
}
