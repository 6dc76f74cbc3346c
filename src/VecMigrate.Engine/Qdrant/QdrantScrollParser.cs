using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>What every record of one read carries besides its own data.</summary>
internal readonly record struct RecordStamp(SourceSchema? Schema, RecordOrigin? Origin, bool WithPosition);

/// <summary>
/// Reads a scroll answer (<c>{"result":{"points":[..],"next_page_offset":..},"status":"ok","time":..}</c>) with
/// one forward pass of <see cref="Utf8JsonReader"/> straight into records: no DOM, no reflection. Floats are
/// parsed as float32 directly from the decimal text (never through double, which can round differently), so a
/// vector is bit for bit what Qdrant wrote (Qdrant writes the shortest text that round-trips a float32).
/// Vectors are the bulk of an answer (about 11 bytes a number), so their arrays are scanned by
/// <see cref="JsonFloats"/> in one pass and the reader is set down again at the array's end; an array the scanner
/// does not take is read token by token as before. Payload objects are copied out as the raw UTF-8 bytes the server sent.
/// </summary>
internal static class QdrantScrollParser
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 1024 };

    /// <summary>Parses one answer; <c>invalid</c> makes the QdrantInvalidResponse exception from a description of what was wrong.</summary>
    public static QdrantScrollPage Parse(ReadOnlySpan<byte> json, RecordStamp stamp, Func<string, Exception?, Exception> invalid)
    {
        var scratch = ArrayPool<float>.Shared.Rent(4096);
        var ctx = new Context(stamp, invalid, scratch);
        try
        {
            var r = new Utf8JsonReader(json, ReaderOptions);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw invalid("the answer is not a JSON object", null);
            QdrantScrollPage? page = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("result"u8))
                {
                    r.Read();
                    if (r.TokenType != JsonTokenType.StartObject) throw invalid($"`result` is {Describe(r.TokenType)}, not an object", null);
                    page = ReadResult(ref r, json, ctx);
                }
                else
                {
                    r.Read();
                    r.Skip();
                }
            }
            return page ?? throw invalid("the answer has no `result`", null);
        }
        catch (JsonException ex)
        {
            throw invalid($"the answer is not valid JSON ({ex.Message})", ex);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ctx.Scratch);
        }
    }

    /// <summary>Per-parse state; a class so helpers can grow the scratch buffer and count points.</summary>
    private sealed class Context(RecordStamp stamp, Func<string, Exception?, Exception> invalid, float[] scratch)
    {
        public readonly RecordStamp Stamp = stamp;
        public readonly Func<string, Exception?, Exception> Invalid = invalid;
        public float[] Scratch = scratch;
        /// <summary>Where the reader's span starts in the answer (it moves when the reader is set down after a scanned array).</summary>
        public int Offset;
        public int PointIndex = -1;
        public PointId CurrentId;
        /// <summary>The length of the last array of numbers read: the next is most likely as long.</summary>
        public int LastLength;

        public Exception PointError(string what)
        {
            var at = CurrentId.IsValid ? $"point #{PointIndex} (id {CurrentId})" : $"point #{PointIndex}";
            return Invalid($"{at}: {what}", null);
        }
    }

    private static QdrantScrollPage ReadResult(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx)
    {
        List<VectorRecord>? points = null;
        PointId? next = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("points"u8))
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartArray) throw ctx.Invalid($"`result.points` is {Describe(r.TokenType)}, not an array", null);
                points = new List<VectorRecord>();
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    ctx.PointIndex = points.Count;
                    ctx.CurrentId = default;
                    if (r.TokenType != JsonTokenType.StartObject) throw ctx.PointError($"is {Describe(r.TokenType)}, not an object");
                    points.Add(ReadPoint(ref r, json, ctx));
                }
            }
            else if (r.ValueTextEquals("next_page_offset"u8))
            {
                r.Read();
                next = r.TokenType == JsonTokenType.Null ? (PointId?)null : ReadId(ref r, ctx, "`result.next_page_offset`");
            }
            else
            {
                r.Read();
                r.Skip();
            }
        }
        if (points is null) throw ctx.Invalid("`result` has no `points`", null);
        return new QdrantScrollPage(points, next);
    }

    private static VectorRecord ReadPoint(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx)
    {
        Dictionary<string, VectorValue>? vectors = null;
        JsonPayload? payload = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("id"u8))
            {
                r.Read();
                ctx.CurrentId = ReadId(ref r, ctx, $"point #{ctx.PointIndex}: `id`");
            }
            else if (r.ValueTextEquals("payload"u8))
            {
                r.Read();
                if (r.TokenType == JsonTokenType.StartObject)
                {
                    payload = new JsonPayload(CopyValue(ref r, json, ctx));
                }
                else if (r.TokenType != JsonTokenType.Null)
                {
                    throw ctx.PointError($"`payload` is {Describe(r.TokenType)}, not an object");
                }
            }
            else if (r.ValueTextEquals("vector"u8))
            {
                r.Read();
                switch (r.TokenType)
                {
                    case JsonTokenType.Null:
                        break; // not requested, or the point has none
                    case JsonTokenType.StartArray:
                        vectors = new Dictionary<string, VectorValue>(1, StringComparer.Ordinal)
                        {
                            [VectorRecord.DefaultVectorName] = ReadArrayVector(ref r, json, ctx, VectorRecord.DefaultVectorName),
                        };
                        break;
                    case JsonTokenType.StartObject:
                        vectors = ReadNamedVectors(ref r, json, ctx);
                        break;
                    default:
                        throw ctx.PointError($"`vector` is {Describe(r.TokenType)}, not an array or object");
                }
            }
            else
            {
                r.Read();
                r.Skip(); // shard_key, order_value, and whatever later versions add
            }
        }
        if (!ctx.CurrentId.IsValid) throw ctx.PointError("has no `id`");
        var stamp = ctx.Stamp;
        return new VectorRecord(ctx.CurrentId, vectors, payload)
        {
            Schema = stamp.Schema,
            Origin = stamp.Origin,
            Position = stamp.WithPosition ? QdrantSource.PositionOf(ctx.CurrentId) : null,
        };
    }

    /// <summary>The reader stands on a StartObject/StartArray; returns that value's bytes and leaves the reader on its end.</summary>
    private static byte[] CopyValue(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx)
    {
        // The reader runs over one contiguous span (the answer from ctx.Offset on), so its positions index that span.
        var start = ctx.Offset + checked((int)r.TokenStartIndex);
        r.Skip();
        var end = ctx.Offset + checked((int)r.BytesConsumed);
        return json[start..end].ToArray();
    }

    private static Dictionary<string, VectorValue> ReadNamedVectors(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx)
    {
        var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = VectorName(ref r, ctx);
            r.Read();
            VectorValue value = r.TokenType switch
            {
                JsonTokenType.StartArray => ReadArrayVector(ref r, json, ctx, name),
                JsonTokenType.StartObject => ReadSparse(ref r, json, ctx, name),
                _ => throw ctx.PointError($"vector \"{name}\" is {Describe(r.TokenType)}, not an array or a sparse object"),
            };
            if (!vectors.TryAdd(name, value)) throw ctx.PointError($"vector \"{name}\" appears twice");
        }
        return vectors;
    }

    /// <summary>The vector name under the reader, as the schema's own string when it has one (no allocation per point).</summary>
    private static string VectorName(ref Utf8JsonReader r, Context ctx)
    {
        if (ctx.Stamp.Schema is { } schema && !r.ValueIsEscaped)
        {
            foreach (var field in schema.Vectors)
            {
                if (r.ValueTextEquals(field.Name)) return field.Name;
            }
        }
        return r.GetString()!;
    }

    /// <summary>At a StartArray: a dense vector (numbers) or a multivector (arrays of numbers).</summary>
    private static VectorValue ReadArrayVector(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx, string name)
    {
        if (!StartsWithArray(json, ctx.Offset + (int)r.BytesConsumed))
        {
            return new DenseVector(ReadFloats(ref r, json, ctx, name));
        }
        r.Read();
        var rows = new List<float[]>();
        do
        {
            var row = ReadFloats(ref r, json, ctx, name);
            if (rows.Count > 0 && row.Length != rows[0].Length)
                throw ctx.PointError($"multivector \"{name}\" has rows of {rows[0].Length} and {row.Length} dimensions");
            rows.Add(row);
        }
        while (r.Read() && r.TokenType == JsonTokenType.StartArray);
        if (r.TokenType != JsonTokenType.EndArray)
            throw ctx.PointError($"multivector \"{name}\" holds {Describe(r.TokenType)} where a row (array) belongs");
        return new MultiVector(rows.ToArray());
    }

    /// <summary>True when the first value after <paramref name="at"/> (past any whitespace) is an array.</summary>
    private static bool StartsWithArray(ReadOnlySpan<byte> json, int at)
    {
        while (at < json.Length && json[at] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') at++;
        return at < json.Length && json[at] == (byte)'[';
    }

    /// <summary>At a StartArray of numbers: reads them and leaves the reader on the array's EndArray.</summary>
    private static float[] ReadFloats(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx, string name)
    {
        var start = ctx.Offset + (int)r.BytesConsumed;
        if (ctx.LastLength > 0)
        {
            // Most arrays are as long as the one before: scanned straight into an array of that length, left
            // uninitialized, they need neither zeroing nor a copy. A shorter one is copied out; a longer one is
            // scanned again into the scratch buffer below.
            var guess = GC.AllocateUninitializedArray<float>(ctx.LastLength);
            var close = JsonFloats.ScanArray(json, start, guess, out var n);
            if (close >= 0)
            {
                SetDown(ref r, json, ctx, close);
                ctx.LastLength = n;
                return n == guess.Length ? guess : guess.AsSpan(0, n).ToArray();
            }
            if (close != JsonFloats.TooSmall)
            {
                r.Read();
                return ReadFloatsFromCurrent(ref r, ctx, name);
            }
        }
        while (true)
        {
            var close = JsonFloats.ScanArray(json, start, ctx.Scratch, out var n);
            if (close >= 0)
            {
                SetDown(ref r, json, ctx, close);
                ctx.LastLength = n;
                return ctx.Scratch.AsSpan(0, n).ToArray();
            }
            if (close != JsonFloats.TooSmall) break;
            Grow(ctx, ctx.Scratch.Length);
        }
        r.Read();
        return ReadFloatsFromCurrent(ref r, ctx, name);
    }

    /// <summary>
    /// Sets the reader down on the closing bracket of a scanned array with the state it had at the opening one: to it
    /// the array is empty, and it goes on checking everything after it as before.
    /// </summary>
    private static void SetDown(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx, int close)
    {
        var state = r.CurrentState;
        ctx.Offset = close;
        r = new Utf8JsonReader(json[close..], isFinalBlock: true, state);
        r.Read();
    }

    /// <summary>Reads numbers from the current token up to the EndArray it leaves the reader on.</summary>
    private static float[] ReadFloatsFromCurrent(ref Utf8JsonReader r, Context ctx, string name)
    {
        var n = 0;
        var scratch = ctx.Scratch;
        while (r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.Number)
                throw ctx.PointError($"vector \"{name}\" holds {Describe(r.TokenType)} at element {n}, where a number belongs");
            // TryGetSingle parses the text straight to the nearest float32. Out-of-range text gives false
            // (.NET 8) or infinity (later runtimes); neither is a value Qdrant can hold.
            if (!r.TryGetSingle(out var f) || !float.IsFinite(f))
                throw ctx.PointError($"vector \"{name}\" element {n} ({Text(r.ValueSpan)}) is not a finite float32");
            if (n == scratch.Length) scratch = Grow(ctx, n);
            scratch[n++] = f;
            r.Read();
        }
        return scratch.AsSpan(0, n).ToArray();
    }

    private static float[] Grow(Context ctx, int used)
    {
        var bigger = ArrayPool<float>.Shared.Rent(used * 2);
        ctx.Scratch.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<float>.Shared.Return(ctx.Scratch);
        ctx.Scratch = bigger;
        return bigger;
    }

    /// <summary>At a StartObject: <c>{"indices":[u32..],"values":[f32..]}</c>.</summary>
    private static SparseVector ReadSparse(ref Utf8JsonReader r, ReadOnlySpan<byte> json, Context ctx, string name)
    {
        uint[]? indices = null;
        float[]? values = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("indices"u8))
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartArray) throw ctx.PointError($"sparse vector \"{name}\": `indices` is {Describe(r.TokenType)}, not an array");
                var list = new List<uint>();
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    if (r.TokenType != JsonTokenType.Number || !r.TryGetUInt32(out var i))
                        throw ctx.PointError($"sparse vector \"{name}\": index {list.Count} is not an unsigned 32-bit integer");
                    list.Add(i);
                }
                indices = list.ToArray();
            }
            else if (r.ValueTextEquals("values"u8))
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartArray) throw ctx.PointError($"sparse vector \"{name}\": `values` is {Describe(r.TokenType)}, not an array");
                values = ReadFloats(ref r, json, ctx, name);
            }
            else
            {
                r.Read();
                r.Skip();
            }
        }
        if (indices is null || values is null) throw ctx.PointError($"sparse vector \"{name}\" lacks `indices` or `values`");
        if (indices.Length != values.Length)
            throw ctx.PointError($"sparse vector \"{name}\" has {indices.Length} indices but {values.Length} values");
        return new SparseVector(indices, values);
    }

    /// <summary>ExtendedPointId: a JSON integer 0..2^64-1, or a string holding a UUID.</summary>
    private static PointId ReadId(ref Utf8JsonReader r, Context ctx, string where)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.Number:
                // TryGetUInt64 refuses negatives, fractions, exponents and values above 2^64-1.
                if (r.TryGetUInt64(out var n)) return PointId.FromUnsigned(n);
                throw ctx.Invalid($"{where} {Text(r.ValueSpan)} is neither an unsigned 64-bit integer nor a UUID", null);
            case JsonTokenType.String:
                var span = r.ValueSpan;
                if (!r.ValueIsEscaped && Utf8Parser.TryParse(span, out Guid g, out var used, 'D') && used == span.Length)
                    return PointId.FromUuid(g);
                var text = r.GetString()!;
                if (Guid.TryParse(text, out g)) return PointId.FromUuid(g);
                throw ctx.Invalid($"{where} \"{Truncate(text)}\" is neither an unsigned 64-bit integer nor a UUID", null);
            default:
                throw ctx.Invalid($"{where} is {Describe(r.TokenType)}, neither an unsigned 64-bit integer nor a UUID", null);
        }
    }

    private static string Text(ReadOnlySpan<byte> utf8) => Truncate(Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 200)]));

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    internal static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };
}
