using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// Checks one record against a <see cref="PineconeWritePlan"/> and Pinecone's limits, and writes its upsert
/// JSON into one reused buffer, so that a record that cannot be written is refused
/// (<see cref="RecordRejectedException"/>) before any byte of it is sent.
/// </summary>
internal sealed class PineconeRecordEncoder : IDisposable
{
    private readonly PineconeWritePlan _plan;
    private readonly int _maxRequestBytes;
    private readonly PooledByteBuffer _buffer = new(32 * 1024);
    private readonly Utf8JsonWriter _writer;

    public PineconeRecordEncoder(PineconeWritePlan plan, int maxRequestBytes)
    {
        _plan = plan;
        _maxRequestBytes = maxRequestBytes;
        _writer = new Utf8JsonWriter(_buffer, PineconeUpsertJson.WriterOptions);
    }

    /// <summary>The last encoded record's upsert JSON.</summary>
    public ReadOnlySpan<byte> Json => _buffer.WrittenSpan;

    /// <summary>The last encoded record's id as Pinecone gets it.</summary>
    public string Id { get; private set; } = "";

    /// <summary>
    /// Maps and checks <paramref name="record"/> (going into <paramref name="namespace"/>) and writes its JSON into
    /// <see cref="Json"/>; throws <see cref="RecordRejectedException"/> when Pinecone could not take it unchanged.
    /// </summary>
    public void Encode(VectorRecord record, string @namespace)
    {
        var id = IdOf(record);
        float[]? dense = null;
        SparseVector? sparse = null;
        foreach (var (name, value) in record.Vectors)
        {
            if (string.Equals(name, _plan.DenseVector, StringComparison.Ordinal))
            {
                dense = value is DenseVector d ? d.Values
                    : throw Reject(record, PineconeErrorIds.VectorKindMismatch, $"its vector {Q(name)} is {Kind(value)}, but it is the one written as Pinecone's dense values");
            }
            else if (string.Equals(name, _plan.SparseVector, StringComparison.Ordinal))
            {
                sparse = value as SparseVector
                    ?? throw Reject(record, PineconeErrorIds.VectorKindMismatch, $"its vector {Q(name)} is {Kind(value)}, but it is the one written as Pinecone's sparse values");
            }
            else if (!_plan.LeaveOthers)
            {
                throw Reject(record, value is MultiVector ? PineconeErrorIds.MultivectorUnsupported : PineconeErrorIds.VectorNotWritten,
                    $"it has the vector {Q(name)} ({Kind(value)}), which has no place in a Pinecone record beside {Places()}; name the vectors to write (VectorName, SparseVectorName) to leave others behind");
            }
        }

        if (_plan.IsSparseIndex)
        {
            if (sparse is null || sparse.Length == 0)
            {
                throw Reject(record, PineconeErrorIds.VectorMissing,
                    $"it has no sparse values{(sparse is null ? $" (no vector {Q(_plan.SparseVector!)})" : $" (its vector {Q(_plan.SparseVector!)} is empty)")}, and a sparse index needs them");
            }
        }
        else
        {
            if (dense is null)
            {
                throw Reject(record, PineconeErrorIds.VectorMissing, $"it has no dense vector {Q(_plan.DenseVector!)}, and a dense index needs dense values");
            }
            CheckDense(record, dense);
        }
        if (sparse is { Length: > 0 }) CheckSparse(record, sparse);

        if (record.Payload is { } payload && PineconeMetadata.Check(payload.Utf8Json.Span, PineconeClient.MaxMetadataBytes) is { } problem)
        {
            throw Reject(record, problem.ErrorId, "its metadata " + problem.Why);
        }

        _buffer.Clear();
        _writer.Reset(_buffer);
        PineconeUpsertJson.WriteVector(_writer, id, dense, sparse, record.Payload, metadataChecked: true);
        var size = PineconeUpsertBody.EnvelopeLength(@namespace) + _buffer.WrittenCount;
        if (size > _maxRequestBytes)
        {
            throw Reject(record, PineconeErrorIds.RecordTooLarge,
                $"it alone makes an upsert request of {size:N0} bytes, over the limit of {_maxRequestBytes:N0}");
        }
        Id = id;
    }

    private string IdOf(VectorRecord record)
    {
        // Unsigned ids become their decimal text, UUIDs their lower-case hyphenated form, strings stay as they are.
        var id = record.Id.ToString();
        if (id.Length == 0) throw Reject(record, PineconeErrorIds.IdInvalid, "its id is empty; Pinecone ids have 1 to 512 characters");
        if (id.Length > PineconeClient.MaxIdLength)
        {
            throw Reject(record, PineconeErrorIds.IdTooLong, $"its id has {id.Length} characters; Pinecone takes at most {PineconeClient.MaxIdLength}");
        }
        if (id.Contains('\0', StringComparison.Ordinal)) throw Reject(record, PineconeErrorIds.IdInvalid, "its id holds the character U+0000");
        return id;
    }

    private void CheckDense(VectorRecord record, float[] values)
    {
        var what = $"its dense vector {Q(_plan.DenseVector!)}";
        if (_plan.Dimension is { } dim && values.Length != dim)
        {
            throw Reject(record, PineconeErrorIds.DimensionMismatch, $"{what} has {values.Length} dimensions, and the index has {dim}");
        }
        var nonZero = false;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (!float.IsFinite(v))
            {
                throw Reject(record, PineconeErrorIds.VectorNotFinite, $"{what} holds {v} at position {i}; Pinecone stores only finite numbers");
            }
            nonZero |= v != 0f;
        }
        if (!nonZero)
        {
            throw Reject(record, PineconeErrorIds.VectorAllZeros, $"{what} is all zeros, which Pinecone refuses (dense vectors need at least one non-zero value)");
        }
    }

    private void CheckSparse(VectorRecord record, SparseVector s)
    {
        var what = $"its sparse vector {Q(_plan.SparseVector!)}";
        if (s.Length > PineconeClient.MaxSparseValues)
        {
            throw Reject(record, PineconeErrorIds.SparseTooManyValues,
                $"{what} has {s.Length:N0} non-zero values; Pinecone takes at most {PineconeClient.MaxSparseValues:N0}");
        }
        for (var i = 0; i < s.Values.Length; i++)
        {
            if (!float.IsFinite(s.Values[i]))
            {
                throw Reject(record, PineconeErrorIds.VectorNotFinite, $"{what} holds {s.Values[i]} at index {s.Indices[i]}; Pinecone stores only finite numbers");
            }
        }
        // Indices are uint32 by type; Pinecone refuses a repeated one. Sources usually send them ascending.
        var indices = s.Indices;
        for (var i = 1; i < indices.Length; i++)
        {
            if (indices[i] > indices[i - 1]) continue;
            var sorted = (uint[])indices.Clone();
            Array.Sort(sorted);
            for (var k = 1; k < sorted.Length; k++)
            {
                if (sorted[k] == sorted[k - 1])
                {
                    throw Reject(record, PineconeErrorIds.SparseIndexDuplicate, $"{what} names index {sorted[k]} more than once");
                }
            }
            break;
        }
    }

    private string Places() =>
        _plan.SparseVector is null ? Q(_plan.DenseVector ?? "") : _plan.DenseVector is null ? Q(_plan.SparseVector) : $"{Q(_plan.DenseVector)} and {Q(_plan.SparseVector)}";

    private static string Q(string name) => PineconeWritePlan.Quote(name);

    private static string Kind(VectorValue v) => v switch
    {
        DenseVector => "dense",
        SparseVector => "sparse",
        _ => "a multivector",
    };

    private RecordRejectedException Reject(VectorRecord record, string errorId, string why) =>
        new(errorId, $"Record {record} cannot be written to Pinecone index '{_plan.IndexName}': {why}.", record);

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
    }
}
