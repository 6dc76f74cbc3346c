using System.Buffers.Binary;
using System.Numerics;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// Checks one record against a table plan and encodes its column values into one reused buffer,
/// so that a record that cannot be written is refused before any byte of it reaches the COPY.
/// </summary>
internal sealed class PgRowEncoder
{
    private readonly PgTablePlan _plan;
    private readonly uint _vectorOid;
    private readonly uint _halfvecOid;
    private byte[] _buffer = new byte[64 * 1024];
    private readonly int[] _start;
    private readonly int[] _length; // -1 = NULL

    public PgRowEncoder(PgTablePlan plan, uint vectorOid, uint halfvecOid)
    {
        _plan = plan;
        _vectorOid = vectorOid;
        _halfvecOid = halfvecOid;
        // Slots: the vector columns, then the typed columns, then the payload.
        _start = new int[plan.VectorColumns.Count + plan.TypedColumns.Count + 1];
        _length = new int[_start.Length];
    }

    /// <summary>The encoded bytes of vector column <paramref name="i"/>, or null for NULL.</summary>
    public ReadOnlyMemory<byte>? Vector(int i) => _length[i] < 0 ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>(_buffer, _start[i], _length[i]);

    /// <summary>The encoded bytes of typed column <paramref name="i"/>, or null for NULL.</summary>
    public ReadOnlyMemory<byte>? Typed(int i)
    {
        var slot = _plan.VectorColumns.Count + i;
        return _length[slot] < 0 ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>(_buffer, _start[slot], _length[slot]);
    }

    /// <summary>The jsonb bytes of the payload, or null.</summary>
    public ReadOnlyMemory<byte>? Payload
    {
        get
        {
            var i = _start.Length - 1;
            return _length[i] < 0 ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>(_buffer, _start[i], _length[i]);
        }
    }

    /// <summary>Checks and encodes <paramref name="record"/>; throws <see cref="RecordRejectedException"/> when it cannot be written.</summary>
    public void Encode(VectorRecord record)
    {
        CheckId(record);
        foreach (var name in record.Vectors.Keys)
        {
            if (_plan.FindVectorColumn(name) is null)
            {
                throw Reject(record, "PgVectorNoColumn",
                    $"it has a vector '{name}' for which table {_plan.DisplayName} has no column");
            }
        }

        var at = 0;
        var cols = _plan.VectorColumns;
        for (var i = 0; i < cols.Count; i++)
        {
            var col = cols[i];
            if (!record.Vectors.TryGetValue(col.VectorName, out var value))
            {
                _length[i] = -1;
                continue;
            }
            if (value.Kind != col.Kind)
            {
                throw Reject(record, "PgVectorKindMismatch",
                    $"its vector '{col.VectorName}' is {value.Kind.ToString().ToLowerInvariant()} but column \"{col.Column}\" is {col.SqlType}");
            }
            _start[i] = at;
            var len = value switch
            {
                DenseVector d => EncodeDense(record, col, d.Values, at),
                SparseVector s => EncodeSparse(record, col, s, at),
                MultiVector m => EncodeMulti(record, col, m, at),
                _ => throw new InvalidOperationException(),
            };
            _length[i] = len;
            at += len;
        }

        var typed = _plan.TypedColumns;
        for (var t = 0; t < typed.Count; t++)
        {
            var slot = cols.Count + t;
            var value = record.Columns is { } rc && t < rc.Values.Length ? rc.Values[t] : null;
            if (value is null)
            {
                _length[slot] = -1;
                continue;
            }
            if (value is JsonPayload jp && jp.ContainsNulCharacter())
            {
                throw Reject(record, "PgPayloadNulCharacter", $"its field '{typed[t].Field}' holds the character \\u0000, which Postgres's jsonb cannot store");
            }
            if (value is string str && str.Contains('\0'))
            {
                throw Reject(record, "PgTextNulCharacter", $"its field '{typed[t].Field}' holds the character \\u0000, which Postgres's text cannot store");
            }
            _start[slot] = at;
            var len = EncodeTyped(typed[t].Type, value, at);
            _length[slot] = len;
            at += len;
        }

        var p = _start.Length - 1;
        if (_plan.PayloadColumn is null || record.Payload is null)
        {
            _length[p] = -1;
        }
        else
        {
            var json = record.Payload.Utf8Json.Span;
            if (record.Payload.ContainsNulCharacter())
            {
                throw Reject(record, "PgPayloadNulCharacter",
                    "its payload holds the character \\u0000, which Postgres's jsonb cannot store");
            }
            Ensure(at + 1 + json.Length);
            _buffer[at] = 1; // jsonb binary format version
            json.CopyTo(_buffer.AsSpan(at + 1));
            _start[p] = at;
            _length[p] = json.Length + 1;
        }
    }

    private void CheckId(VectorRecord record)
    {
        var id = record.Id;
        var ok = _plan.IdType switch
        {
            PgIdType.Numeric => id.Kind == PointIdKind.Unsigned,
            PgIdType.BigInt => id.Kind == PointIdKind.Unsigned && id.AsUnsigned <= long.MaxValue,
            PgIdType.Uuid => id.Kind == PointIdKind.Uuid,
            _ => true,
        };
        if (!ok)
        {
            throw Reject(record, "PgIdDoesNotFit",
                $"its id {id} ({id.Kind}) does not fit id column of type {_plan.IdSqlType} in table {_plan.DisplayName}");
        }
    }

    private int EncodeDense(VectorRecord record, PgVectorColumn col, float[] values, int at)
    {
        CheckDense(record, col, values, -1);
        switch (col.Storage)
        {
            case PgVectorStorage.HalfVec:
                Ensure(at + PgVectorCodec.HalfVecSize(values.Length));
                return PgVectorCodec.WriteHalfVec(_buffer.AsSpan(at), values);
            case PgVectorStorage.RealArray:
                Ensure(at + PgVectorCodec.RealArraySize(values.Length));
                return PgVectorCodec.WriteRealArray(_buffer.AsSpan(at), values);
            default:
                Ensure(at + PgVectorCodec.VectorSize(values.Length));
                return PgVectorCodec.WriteVector(_buffer.AsSpan(at), values);
        }
    }

    private void CheckDense(VectorRecord record, PgVectorColumn col, float[] values, int inner)
    {
        // Built only for a message: this runs for every vector of every record.
        string What() => inner < 0 ? $"its vector '{col.VectorName}'" : $"vector {inner} of its multivector '{col.VectorName}'";
        if (col.Dimension is { } dim && values.Length != dim)
        {
            throw Reject(record, "PgVectorDimensionMismatch",
                $"{What()} has {values.Length} dimensions but column \"{col.Column}\" is {col.SqlType}");
        }
        if (values.Length == 0 && col.Storage != PgVectorStorage.RealArray)
        {
            throw Reject(record, "PgVectorEmpty", $"{What()} is empty; pgvector needs at least one dimension");
        }
        var max = col.Storage switch
        {
            PgVectorStorage.HalfVec or PgVectorStorage.HalfVecArray => PgVectorCodec.HalfVecMaxDim,
            PgVectorStorage.RealArray => int.MaxValue,
            _ => PgVectorCodec.VectorMaxDim,
        };
        if (values.Length > max)
        {
            throw Reject(record, "PgVectorTooManyDimensions", $"{What()} has {values.Length} dimensions; pgvector allows at most {max}");
        }
        var halfLimit = col.Storage is PgVectorStorage.HalfVec or PgVectorStorage.HalfVecArray;
        if (AllWithin(values, halfLimit ? (float)Half.MaxValue : float.MaxValue)) return;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (!float.IsFinite(v))
            {
                throw Reject(record, "PgVectorNotFinite", $"{What()} holds {v} at position {i}; only finite numbers can be stored (pgvector refuses NaN and infinity, and a migration must not change them)");
            }
            if (halfLimit && Math.Abs(v) > (float)Half.MaxValue)
            {
                throw Reject(record, "PgHalfVecOverflow", $"{What()} holds {v} at position {i}, beyond halfvec's range (±65504)");
            }
        }
    }

    /// <summary>True when every value is finite and no larger in magnitude than <paramref name="limit"/> (NaN fails every comparison).</summary>
    private static bool AllWithin(ReadOnlySpan<float> values, float limit)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var max = new Vector<float>(limit);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                if (!System.Numerics.Vector.LessThanOrEqualAll(System.Numerics.Vector.Abs(new Vector<float>(values[i..])), max)) return false;
            }
        }
        for (; i < values.Length; i++)
        {
            if (!(Math.Abs(values[i]) <= limit)) return false;
        }
        return true;
    }

    private int EncodeSparse(VectorRecord record, PgVectorColumn col, SparseVector s, int at)
    {
        var dim = col.Dimension ?? PgVectorCodec.SparseVecMaxDim;
        var what = $"its sparse vector '{col.VectorName}'";
        if (s.Indices.Length > PgVectorCodec.SparseVecMaxNnz)
        {
            throw Reject(record, "PgSparseVecTooManyNonZeros", $"{what} has {s.Indices.Length} non-zero values; sparsevec allows at most {PgVectorCodec.SparseVecMaxNnz}");
        }
        uint[] indices = s.Indices;
        float[] values = s.Values;
        if (!IsStrictlyAscending(indices))
        {
            // Same vector, in the order sparsevec requires; a repeated index is ambiguous and refused.
            indices = (uint[])indices.Clone();
            values = (float[])values.Clone();
            Array.Sort(indices, values);
            if (!IsStrictlyAscending(indices))
            {
                throw Reject(record, "PgSparseVecDuplicateIndex", $"{what} names the same index twice");
            }
        }
        for (var i = 0; i < indices.Length; i++)
        {
            if (indices[i] >= (uint)dim)
            {
                throw Reject(record, "PgSparseVecIndexOutOfRange",
                    $"{what} has index {indices[i]}, beyond the sparse dimension {dim} of column \"{col.Column}\"");
            }
            if (!float.IsFinite(values[i]))
            {
                throw Reject(record, "PgVectorNotFinite", $"{what} holds {values[i]} at index {indices[i]}; pgvector stores only finite numbers");
            }
        }
        if (Array.IndexOf(values, 0f) >= 0 || Array.IndexOf(values, -0f) >= 0)
        {
            // sparsevec cannot hold an explicit zero (pgvector refuses it in binary); an explicit zero
            // and an absent index are the same vector, so the zeros are left out.
            var keep = values.Count(v => v != 0f);
            var ki = new uint[keep];
            var kv = new float[keep];
            for (int i = 0, j = 0; i < values.Length; i++)
            {
                if (values[i] == 0f) continue;
                ki[j] = indices[i];
                kv[j++] = values[i];
            }
            indices = ki;
            values = kv;
        }
        Ensure(at + PgVectorCodec.SparseVecSize(indices.Length));
        return PgVectorCodec.WriteSparseVec(_buffer.AsSpan(at), dim, indices, values);
    }

    private int EncodeMulti(VectorRecord record, PgVectorColumn col, MultiVector m, int at)
    {
        var half = col.Storage == PgVectorStorage.HalfVecArray;
        var elem = 0;
        for (var i = 0; i < m.Vectors.Length; i++)
        {
            CheckDense(record, col, m.Vectors[i], i);
            if (i > 0 && m.Vectors[i].Length != m.Vectors[0].Length)
            {
                throw Reject(record, "PgVectorDimensionMismatch", $"the vectors of its multivector '{col.VectorName}' differ in dimension");
            }
            elem = half ? PgVectorCodec.HalfVecSize(m.Vectors[i].Length) : PgVectorCodec.VectorSize(m.Vectors[i].Length);
        }
        Ensure(at + PgVectorCodec.ArraySize(m.Vectors.Length, elem));
        return PgVectorCodec.WriteVectorArray(_buffer.AsSpan(at), half ? _halfvecOid : _vectorOid, m.Vectors, half);
    }

    private int EncodeTyped(ColumnType type, object value, int at)
    {
        Ensure(at + 64);
        var span = _buffer.AsSpan(at);
        switch (type)
        {
            case ColumnType.Text:
            {
                var s = (string)value;
                Ensure(at + System.Text.Encoding.UTF8.GetMaxByteCount(s.Length));
                return System.Text.Encoding.UTF8.GetBytes(s, _buffer.AsSpan(at));
            }
            case ColumnType.Integer: BinaryPrimitives.WriteInt32BigEndian(span, (int)value); return 4;
            case ColumnType.BigInt: BinaryPrimitives.WriteInt64BigEndian(span, (long)value); return 8;
            case ColumnType.Real: BinaryPrimitives.WriteSingleBigEndian(span, (float)value); return 4;
            case ColumnType.Double: BinaryPrimitives.WriteDoubleBigEndian(span, (double)value); return 8;
            case ColumnType.Numeric: return PgVectorCodec.WriteNumeric(span, (decimal)value);
            case ColumnType.Boolean: span[0] = (bool)value ? (byte)1 : (byte)0; return 1;
            case ColumnType.Timestamptz:
                BinaryPrimitives.WriteInt64BigEndian(span, (((DateTimeOffset)value).UtcTicks - PgEpochTicks) / 10);
                return 8;
            case ColumnType.Date:
                BinaryPrimitives.WriteInt32BigEndian(span, ((DateOnly)value).DayNumber - PgEpochDay);
                return 4;
            case ColumnType.Uuid:
                ((Guid)value).TryWriteBytes(span, bigEndian: true, out _);
                return 16;
            case ColumnType.Jsonb:
            {
                var json = ((JsonPayload)value).Utf8Json.Span;
                Ensure(at + 1 + json.Length);
                _buffer[at] = 1;
                json.CopyTo(_buffer.AsSpan(at + 1));
                return json.Length + 1;
            }
            case ColumnType.TextArray:
            {
                var items = (string?[])value;
                var size = 20 + items.Sum(x => 4 + (x is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(x)));
                Ensure(at + size);
                return WriteArray(at, 25, items.Length, items.Any(x => x is null), (i, dest) =>
                    items[i] is { } x ? System.Text.Encoding.UTF8.GetBytes(x, dest) : -1);
            }
            case ColumnType.IntegerArray:
            {
                var items = (int[])value;
                Ensure(at + 20 + items.Length * 8);
                return WriteArray(at, 23, items.Length, false, (i, dest) => { BinaryPrimitives.WriteInt32BigEndian(dest, items[i]); return 4; });
            }
            case ColumnType.BigIntArray:
            {
                var items = (long[])value;
                Ensure(at + 20 + items.Length * 12);
                return WriteArray(at, 20, items.Length, false, (i, dest) => { BinaryPrimitives.WriteInt64BigEndian(dest, items[i]); return 8; });
            }
            case ColumnType.DoubleArray:
            {
                var items = (double[])value;
                Ensure(at + 20 + items.Length * 12);
                return WriteArray(at, 701, items.Length, false, (i, dest) => { BinaryPrimitives.WriteDoubleBigEndian(dest, items[i]); return 8; });
            }
        }
        throw new InvalidOperationException($"Unknown column type {type}.");
    }

    private static readonly long PgEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly int PgEpochDay = new DateOnly(2000, 1, 1).DayNumber;

    private delegate int ElementWriter(int index, Span<byte> dest);

    /// <summary>A one-dimensional array; the writer returns an element's length, or -1 for NULL.</summary>
    private int WriteArray(int at, uint elementOid, int count, bool hasNull, ElementWriter write)
    {
        var span = _buffer.AsSpan(at);
        if (count == 0)
        {
            BinaryPrimitives.WriteInt32BigEndian(span, 0);
            BinaryPrimitives.WriteInt32BigEndian(span[4..], 0);
            BinaryPrimitives.WriteUInt32BigEndian(span[8..], elementOid);
            return 12;
        }
        BinaryPrimitives.WriteInt32BigEndian(span, 1);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], hasNull ? 1 : 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], elementOid);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], count);
        BinaryPrimitives.WriteInt32BigEndian(span[16..], 1);
        var pos = 20;
        for (var i = 0; i < count; i++)
        {
            var len = write(i, span[(pos + 4)..]);
            BinaryPrimitives.WriteInt32BigEndian(span[pos..], len);
            pos += 4 + Math.Max(len, 0);
        }
        return pos;
    }

    private static bool IsStrictlyAscending(uint[] a)
    {
        for (var i = 1; i < a.Length; i++)
        {
            if (a[i] <= a[i - 1]) return false;
        }
        return true;
    }

    private void Ensure(int size)
    {
        if (size <= _buffer.Length) return;
        var bigger = new byte[Math.Max(size, _buffer.Length * 2)];
        _buffer.AsSpan().CopyTo(bigger);
        _buffer = bigger;
    }

    private RecordRejectedException Reject(VectorRecord record, string errorId, string why) =>
        new(errorId, $"Record {record} cannot be written to {_plan.DisplayName}: {why}.", record);

    /// <summary>Numeric encoding of an unsigned id into a small scratch buffer.</summary>
    public static ReadOnlyMemory<byte> NumericId(byte[] scratch, ulong id) =>
        new(scratch, 0, PgVectorCodec.WriteNumeric(scratch, id));

    /// <summary>uuid encoding (RFC byte order).</summary>
    public static ReadOnlyMemory<byte> UuidId(byte[] scratch, Guid id)
    {
        id.TryWriteBytes(scratch, bigEndian: true, out _);
        return new(scratch, 0, 16);
    }

    /// <summary>bigint encoding.</summary>
    public static ReadOnlyMemory<byte> BigIntId(byte[] scratch, ulong id)
    {
        BinaryPrimitives.WriteInt64BigEndian(scratch, checked((long)id));
        return new(scratch, 0, 8);
    }
}
