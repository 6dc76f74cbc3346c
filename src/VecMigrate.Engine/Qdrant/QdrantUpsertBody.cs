using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// The body of one <c>PUT /collections/{name}/points</c>: <c>{"points":[{id, vector, payload}, ...]}</c>, written
/// point by point with a <see cref="Utf8JsonWriter"/> straight into one pooled buffer that is reused from request
/// to request. Its <see cref="Length"/> is the exact size of the finished request at every moment, so a caller can
/// keep each request under a byte limit. Floats are written as the shortest text that round-trips a float32
/// (what Qdrant itself writes), so every bit survives; payloads are copied as the bytes given.
/// </summary>
internal sealed class QdrantUpsertBody : IBufferWriter<byte>, IDisposable
{
    private static ReadOnlySpan<byte> Head => "{\"points\":["u8;
    private static ReadOnlySpan<byte> Tail => "]}"u8;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Strings here are ids, vector names and our payload fields: JSON, never HTML, so no need to escape
        // non-ASCII text (smaller requests).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private byte[] _buffer;
    private int _length;
    private readonly Utf8JsonWriter _writer;

    public QdrantUpsertBody(int initialCapacity = 64 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 64));
        _writer = new Utf8JsonWriter(this, WriterOptions);
        Clear();
    }

    /// <summary>Points in the body.</summary>
    public int Count { get; private set; }

    /// <summary>The size of the finished request, closing brackets included.</summary>
    public int Length => _length + Tail.Length;

    /// <summary>The size of a request that holds no point.</summary>
    public static int EmptyLength => Head.Length + Tail.Length;

    /// <summary>Where the next point starts: pass to <see cref="TakeBack"/> to remove it again.</summary>
    public int Mark => _length;

    /// <summary>Empties the body (the buffer is kept).</summary>
    public void Clear()
    {
        _length = 0;
        Head.CopyTo(Grow(Head.Length));
        _length = Head.Length;
        Count = 0;
    }

    /// <summary>
    /// Appends one point. <paramref name="id"/> must be an unsigned integer or a UUID; <paramref name="bare"/>
    /// writes the single unnamed vector as the plain array Qdrant's unnamed form takes, else vectors go as a map
    /// by name ("" naming the unnamed one). <paramref name="payload"/> is a JSON object (already checked), or
    /// empty for none. Values must be finite (checked by the caller: JSON has no NaN).
    /// </summary>
    public void AppendPoint(PointId id, IReadOnlyDictionary<string, VectorValue> vectors, bool bare, ReadOnlySpan<byte> payload)
    {
        var mark = _length;
        try
        {
            WritePoint(id, vectors, bare, payload);
        }
        catch
        {
            _length = mark; // nothing of a point that could not be written stays
            _writer.Reset(this);
            throw;
        }
        Count++;
    }

    private void WritePoint(PointId id, IReadOnlyDictionary<string, VectorValue> vectors, bool bare, ReadOnlySpan<byte> payload)
    {
        if (Count > 0) Append((byte)',');
        var w = _writer;
        w.Reset(this);
        w.WriteStartObject();
        w.WritePropertyName("id"u8);
        switch (id.Kind)
        {
            case PointIdKind.Unsigned:
                w.WriteNumberValue(id.AsUnsigned);
                break;
            case PointIdKind.Uuid:
                w.WriteStringValue(id.AsUuid); // lower-case, hyphenated
                break;
            default:
                throw new ArgumentException($"A Qdrant point id is an unsigned integer or a UUID, not the {id.Kind} id '{id}'.", nameof(id));
        }
        w.WritePropertyName("vector"u8);
        if (bare)
        {
            WriteVector(w, vectors[VectorRecord.DefaultVectorName]);
        }
        else
        {
            w.WriteStartObject();
            foreach (var (name, value) in vectors)
            {
                w.WritePropertyName(name);
                WriteVector(w, value);
            }
            w.WriteEndObject();
        }
        if (!payload.IsEmpty)
        {
            w.WritePropertyName("payload"u8);
            w.WriteRawValue(payload, skipInputValidation: true);
        }
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>Removes the point appended at <paramref name="mark"/> (the last one) and returns its bytes.</summary>
    public byte[] TakeBack(int mark)
    {
        var start = Count > 1 ? mark + 1 : mark; // skip the comma before it
        var point = _buffer.AsSpan(start, _length - start).ToArray();
        _length = mark;
        Count--;
        return point;
    }

    /// <summary>Appends a point taken back from another body.</summary>
    public void AppendRaw(ReadOnlySpan<byte> point)
    {
        if (Count > 0) Append((byte)',');
        point.CopyTo(Grow(point.Length));
        _length += point.Length;
        Count++;
    }

    /// <summary>The finished request; valid until the body changes.</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        Tail.CopyTo(Grow(Tail.Length));
        return _buffer.AsMemory(0, _length + Tail.Length);
    }

    private static void WriteVector(Utf8JsonWriter w, VectorValue value)
    {
        switch (value)
        {
            case DenseVector d:
                WriteFloats(w, d.Values);
                break;
            case MultiVector m:
                w.WriteStartArray();
                foreach (var row in m.Vectors) WriteFloats(w, row);
                w.WriteEndArray();
                break;
            case SparseVector s:
                w.WriteStartObject();
                w.WriteStartArray("indices"u8);
                foreach (var i in s.Indices) w.WriteNumberValue(i);
                w.WriteEndArray();
                w.WritePropertyName("values"u8);
                WriteFloats(w, s.Values);
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"Unknown vector kind {value.Kind}.", nameof(value));
        }
    }

    private static void WriteFloats(Utf8JsonWriter w, float[] values)
    {
        w.WriteStartArray();
        // Utf8JsonWriter writes a float as the shortest text that parses back to the same float32.
        foreach (var f in values) w.WriteNumberValue(f);
        w.WriteEndArray();
    }

    private void Append(byte b)
    {
        Grow(1)[0] = b;
        _length++;
    }

    /// <summary>Room for <paramref name="size"/> more bytes after the current end (not yet counted).</summary>
    private Span<byte> Grow(int size)
    {
        if (_buffer.Length - _length < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(_length + size), checked(_buffer.Length * 2)));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length, size);
    }

    // IBufferWriter<byte>, for the Utf8JsonWriter.
    void IBufferWriter<byte>.Advance(int count) => _length += count;

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        Grow(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(_length);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint)
    {
        Grow(Math.Max(sizeHint, 256));
        return _buffer.AsSpan(_length);
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        _writer.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }
}
