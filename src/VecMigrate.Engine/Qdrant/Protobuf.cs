using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VecMigrate.Engine.Qdrant;

/// <summary>Protobuf bytes that break the wire format (truncated, a bad wire type, a length past the end).</summary>
internal sealed class ProtoFormatException(string message) : Exception(message);

/// <summary>The wire types of the protobuf encoding.</summary>
internal static class WireType
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int Len = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;
}

/// <summary>
/// A forward reader of one protobuf message: the bytes <c>[position, end)</c> of a larger buffer. Every read is
/// bounds-checked and throws <see cref="ProtoFormatException"/> on bytes that are not protobuf. Sub-messages are
/// read by a reader over the same buffer (<see cref="ReadMessage"/>), so positions stay absolute.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _end;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> buffer) : this(buffer, 0, buffer.Length) { }

    public ProtoReader(ReadOnlySpan<byte> buffer, int start, int end)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
    }

    public readonly int Position => _position;

    public readonly bool AtEnd => _position >= _end;

    /// <summary>The next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_position >= _end)
        {
            field = 0;
            wireType = 0;
            return false;
        }
        var tag = ReadVarint();
        if (tag > uint.MaxValue) throw new ProtoFormatException("a field tag is larger than 32 bits");
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0) throw new ProtoFormatException("a field has number 0");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end) throw new ProtoFormatException("a varint runs past the end of its message");
            var b = _buffer[_position++];
            if (shift == 63 && b > 1) throw new ProtoFormatException("a varint is larger than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new ProtoFormatException("a varint is longer than 10 bytes");
    }

    public uint ReadUInt32Varint()
    {
        var v = ReadVarint();
        if (v > uint.MaxValue) throw new ProtoFormatException($"the value {v} does not fit an unsigned 32-bit field");
        return (uint)v;
    }

    public uint ReadFixed32()
    {
        if (_end - _position < 4) throw new ProtoFormatException("a 32-bit value runs past the end of its message");
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Slice(_position, 4));
        _position += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (_end - _position < 8) throw new ProtoFormatException("a 64-bit value runs past the end of its message");
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.Slice(_position, 8));
        _position += 8;
        return v;
    }

    /// <summary>A length-delimited field's bytes (absolute start and length in the buffer); the reader moves past them.</summary>
    public (int Start, int Length) ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(_end - _position)) throw new ProtoFormatException("a length-delimited field runs past the end of its message");
        var start = _position;
        _position += (int)length;
        return (start, (int)length);
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var (start, length) = ReadLengthDelimited();
        return _buffer.Slice(start, length);
    }

    /// <summary>A reader over the embedded message that follows.</summary>
    public ProtoReader ReadMessage()
    {
        var (start, length) = ReadLengthDelimited();
        return new ProtoReader(_buffer, start, start + length);
    }

    /// <summary>A reader over bytes an earlier <see cref="ReadLengthDelimited"/> returned.</summary>
    public readonly ProtoReader At((int Start, int Length) bytes) => new(_buffer, bytes.Start, bytes.Start + bytes.Length);

    public readonly ReadOnlySpan<byte> Slice((int Start, int Length) bytes) => _buffer.Slice(bytes.Start, bytes.Length);

    public string ReadString()
    {
        var bytes = ReadBytes();
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtoFormatException("a string field is not valid UTF-8");
        }
    }

    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Skips the value of a field of the given wire type (groups included, nested as they come).</summary>
    public void Skip(int wireType, int field)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                ReadFixed64();
                break;
            case WireType.Len:
                ReadLengthDelimited();
                break;
            case WireType.Fixed32:
                ReadFixed32();
                break;
            case WireType.StartGroup:
                while (true)
                {
                    if (!TryReadTag(out var f, out var w)) throw new ProtoFormatException($"group {field} has no end");
                    if (w == WireType.EndGroup)
                    {
                        if (f != field) throw new ProtoFormatException($"group {field} ends as group {f}");
                        return;
                    }
                    Skip(w, f);
                }
            default:
                throw new ProtoFormatException($"field {field} has wire type {wireType}, which protobuf does not define here");
        }
    }

    /// <summary>
    /// Appends a <c>repeated float</c> field's values: packed (one length-delimited run of little-endian float32s,
    /// taken in one block copy) or one fixed32 value.
    /// </summary>
    public void ReadFloats(int wireType, ref FloatList list)
    {
        if (wireType == WireType.Fixed32)
        {
            list.Add(BitConverter.UInt32BitsToSingle(ReadFixed32()));
            return;
        }
        if (wireType != WireType.Len) throw new ProtoFormatException($"a float field has wire type {wireType}");
        var bytes = ReadBytes();
        if (bytes.Length % 4 != 0) throw new ProtoFormatException($"a packed float field of {bytes.Length} bytes is not a whole number of floats");
        list.AddPacked(bytes);
    }

    /// <summary>Appends a <c>repeated uint32</c> field's values: packed varints or one varint.</summary>
    public void ReadUInt32s(int wireType, List<uint> list)
    {
        if (wireType == WireType.Varint)
        {
            list.Add(ReadUInt32Varint());
            return;
        }
        if (wireType != WireType.Len) throw new ProtoFormatException($"a uint32 field has wire type {wireType}");
        var inner = ReadMessage();
        while (!inner.AtEnd) list.Add(inner.ReadUInt32Varint());
    }
}

/// <summary>The values of a repeated float field, usually one packed run that becomes the array as it is.</summary>
internal struct FloatList
{
    private float[]? _values;

    public readonly bool IsEmpty => _values is null || _values.Length == 0;

    public readonly float[] ToArray() => _values ?? [];

    public void Add(float value) => Append(1).AsSpan()[^1] = value;

    public void AddPacked(ReadOnlySpan<byte> bytes)
    {
        var count = bytes.Length / 4;
        if (_values is null)
        {
            _values = GC.AllocateUninitializedArray<float>(count);
            Copy(bytes, _values);
            return;
        }
        var all = Append(count);
        Copy(bytes, all.AsSpan(all.Length - count));
    }

    private float[] Append(int count)
    {
        var old = _values ?? [];
        var all = GC.AllocateUninitializedArray<float>(old.Length + count);
        old.CopyTo(all, 0);
        _values = all;
        return all;
    }

    private static void Copy(ReadOnlySpan<byte> littleEndian, Span<float> into)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(littleEndian).CopyTo(into);
            return;
        }
        for (var i = 0; i < into.Length; i++)
            into[i] = BitConverter.UInt32BitsToSingle(BinaryPrimitives.ReadUInt32LittleEndian(littleEndian.Slice(i * 4, 4)));
    }
}

/// <summary>A small protobuf writer for requests: fields appended in order, embedded messages via a nested writer.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _out = new(128);

    public int Length => (int)_out.Length;

    public void WriteTag(int field, int wireType) => WriteVarint((ulong)(uint)((field << 3) | wireType));

    public void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _out.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _out.WriteByte((byte)value);
    }

    public void WriteUInt64(int field, ulong value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value);
    }

    public void WriteBool(int field, bool value) => WriteUInt64(field, value ? 1UL : 0UL);

    public void WriteString(int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteTag(field, WireType.Len);
        WriteVarint((ulong)bytes.Length);
        _out.Write(bytes);
    }

    public void WriteMessage(int field, ProtoWriter message)
    {
        WriteTag(field, WireType.Len);
        WriteVarint((ulong)message.Length);
        message._out.Position = 0;
        message._out.CopyTo(_out);
    }

    public byte[] ToArray() => _out.ToArray();

    /// <summary>The message framed for gRPC: a zero byte (not compressed), its length big-endian, then the message.</summary>
    public byte[] ToGrpcFrame()
    {
        var frame = new byte[5 + Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)Length);
        _out.Position = 0;
        _out.ReadExactly(frame.AsSpan(5));
        return frame;
    }
}
