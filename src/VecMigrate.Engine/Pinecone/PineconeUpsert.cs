using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>One record as <c>POST /vectors/upsert</c> takes it: id, dense values, sparse values, metadata.</summary>
public sealed class PineconeUpsertVector
{
    /// <param name="id">The record id (1 to 512 characters).</param>
    /// <param name="values">Dense values; null for a record of a sparse index.</param>
    /// <param name="sparseValues">Sparse values; null for none.</param>
    /// <param name="metadata">A flat JSON object, sent as its own bytes; null for none.</param>
    public PineconeUpsertVector(string id, float[]? values, SparseVector? sparseValues = null, JsonPayload? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        Values = values;
        SparseValues = sparseValues;
        Metadata = metadata;
    }

    public string Id { get; }

    public float[]? Values { get; }

    public SparseVector? SparseValues { get; }

    public JsonPayload? Metadata { get; }
}

/// <summary>Writes upsert JSON with <see cref="Utf8JsonWriter"/>: field names as the 2026-04 document spells them.</summary>
internal static class PineconeUpsertJson
{
    // Relaxed escaping keeps non-ASCII ids and metadata as UTF-8 (the server reads both forms; this one is smaller).
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes one vector object. Floats go out as the shortest text that reads back as the same float32
    /// (Utf8JsonWriter's float formatting), so the server parses exactly the bits that were read.
    /// </summary>
    /// <param name="w">The request body's writer.</param>
    /// <param name="id">The vector's id.</param>
    /// <param name="values">Its dense values, or null.</param>
    /// <param name="sparse">Its sparse values, or null.</param>
    /// <param name="metadata">Its metadata object, or null.</param>
    /// <param name="metadataChecked">The metadata was validated already: its bytes are copied without a second parse.</param>
    public static void WriteVector(Utf8JsonWriter w, string id, float[]? values, SparseVector? sparse, JsonPayload? metadata, bool metadataChecked)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        if (values is not null)
        {
            w.WriteStartArray("values"u8);
            foreach (var f in values) w.WriteNumberValue(f);
            w.WriteEndArray();
        }
        if (sparse is { Length: > 0 })
        {
            w.WriteStartObject("sparseValues"u8);
            w.WriteStartArray("indices"u8);
            foreach (var i in sparse.Indices) w.WriteNumberValue(i);
            w.WriteEndArray();
            w.WriteStartArray("values"u8);
            foreach (var f in sparse.Values) w.WriteNumberValue(f);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        if (metadata is not null)
        {
            w.WritePropertyName("metadata"u8);
            w.WriteRawValue(metadata.Utf8Json.Span, skipInputValidation: metadataChecked);
        }
        w.WriteEndObject();
        w.Flush();
    }
}

/// <summary>
/// The body of one upsert request, <c>{"vectors":[...],"namespace":"..."}</c>, built in a pooled buffer from
/// vectors serialized one at a time, so that its size is known before each vector is added. The default
/// namespace is addressed by leaving <c>namespace</c> out, as the client's reads do.
/// </summary>
internal sealed class PineconeUpsertBody : IDisposable
{
    private static readonly byte[] Head = "{\"vectors\":["u8.ToArray();
    private readonly PooledByteBuffer _buffer = new(64 * 1024);
    private byte[] _tail = "]}"u8.ToArray();
    private bool _finished;

    /// <summary>The namespace of the vectors in the body ("" for the default one).</summary>
    public string Namespace { get; private set; } = "";

    public int Count { get; private set; }

    /// <summary>The size of the finished body as it stands.</summary>
    public int Length => _buffer.WrittenCount + (_finished ? 0 : _tail.Length);

    /// <summary>The finished body's size if a vector of <paramref name="vectorBytes"/> bytes were added.</summary>
    public int LengthWith(int vectorBytes) => Length + (Count > 0 ? 1 : 0) + vectorBytes;

    /// <summary>The bytes around the vectors of a request into <paramref name="namespace"/>.</summary>
    public static int EnvelopeLength(string @namespace) => Head.Length + TailFor(@namespace).Length;

    /// <summary>Starts an empty body for <paramref name="namespace"/>.</summary>
    public void Begin(string @namespace)
    {
        _buffer.Clear();
        _buffer.Write(Head);
        if (!string.Equals(@namespace, Namespace, StringComparison.Ordinal)) _tail = TailFor(@namespace);
        Namespace = @namespace;
        Count = 0;
        _finished = false;
    }

    public void Append(ReadOnlySpan<byte> vectorJson)
    {
        if (_finished) throw new InvalidOperationException("The body is finished.");
        if (Count > 0) _buffer.Write(","u8);
        _buffer.Write(vectorJson);
        Count++;
    }

    /// <summary>Closes the body; the memory stays valid until the next <see cref="Begin"/>.</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        if (!_finished)
        {
            _buffer.Write(_tail);
            _finished = true;
        }
        return _buffer.WrittenMemory;
    }

    private static byte[] TailFor(string @namespace)
    {
        if (PineconeNamespace.IsDefault(@namespace)) return "]}"u8.ToArray();
        var buffer = new ArrayBufferWriter<byte>(@namespace.Length + 32);
        using (var w = new Utf8JsonWriter(buffer, PineconeUpsertJson.WriterOptions))
        {
            w.WriteStringValue(@namespace);
        }
        var head = "],\"namespace\":"u8;
        var tail = new byte[head.Length + buffer.WrittenCount + 1];
        head.CopyTo(tail);
        var at = head.Length;
        buffer.WrittenSpan.CopyTo(tail.AsSpan(at));
        at += buffer.WrittenCount;
        tail[at] = (byte)'}';
        return tail;
    }

    public void Dispose() => _buffer.Dispose();
}

/// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool; grows by doubling.</summary>
internal sealed class PooledByteBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _written;

    public PooledByteBuffer(int initialCapacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));
    }

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _written);

    public void Clear() => _written = 0;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _array.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        var need = _written + Math.Max(sizeHint, 1);
        if (need <= _array.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, checked(_array.Length * 2)));
        _array.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        var a = _array;
        _array = [];
        _written = 0;
        if (a.Length > 0) ArrayPool<byte>.Shared.Return(a);
    }
}
