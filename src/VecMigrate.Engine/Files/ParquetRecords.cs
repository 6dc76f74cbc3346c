using System.Buffers;
using System.Text;
using Parquet;
using Parquet.Schema;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>
/// Records as Parquet (Parquet.Net's low-level API, levels written by hand so that nothing is boxed or copied per
/// value): one row per record with <c>id</c>, <c>id_kind</c>, <c>namespace</c>, <c>payload</c> (JSON text), then one
/// column per vector space: dense <c>list&lt;float&gt;</c>, sparse <c>list&lt;uint32&gt;</c> indices plus
/// <c>list&lt;float&gt;</c> values, multivector <c>list&lt;list&lt;float&gt;&gt;</c>. The layout's JSON goes into the
/// file's key-value metadata. See docs/files.md.
/// </summary>
internal static class ParquetRecords
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly ReadOnlyMemory<char>[] KindNames = ["u64".AsMemory(), "uuid".AsMemory(), "text".AsMemory()];

    /// <summary>The Parquet schema of a layout: the four record columns, then the vector columns in layout order.</summary>
    public static ParquetSchema SchemaOf(FileLayout layout)
    {
        var fields = new List<Field>
        {
            new DataField<string>(FileLayout.IdColumn, false),
            new DataField<string>(FileLayout.IdKindColumn, false),
            new DataField<string>(FileLayout.NamespaceColumn, true),
            new DataField<string>(FileLayout.PayloadColumn, true),
        };
        foreach (var v in layout.Vectors)
        {
            switch (v.Field.Kind)
            {
                case VectorKind.Dense:
                    fields.Add(new ListField(v.Column, new DataField<float>("element", false)));
                    break;
                case VectorKind.Sparse:
                    fields.Add(new ListField(v.Column, new DataField<uint>("element", false)));
                    fields.Add(new ListField(v.ValuesColumn!, new DataField<float>("element", false)));
                    break;
                case VectorKind.Multi:
                    fields.Add(new ListField(v.Column, new ListField("element", new DataField<float>("element", false))));
                    break;
            }
        }
        return new ParquetSchema(fields);
    }

    /// <summary>
    /// Writes <paramref name="batch"/> as one row group at the end of <paramref name="stream"/>: a new file when it is
    /// empty, else appended before the existing footer (Parquet.Net's append), so that the stream holds a complete
    /// Parquet file after every row group. The stream is cut to what was written.
    /// </summary>
    public static async Task AppendRowGroupAsync(Stream stream, FileLayout layout, IReadOnlyList<VectorRecord> batch, CancellationToken ct)
    {
        var schema = SchemaOf(layout);
        var append = stream.Length > 0;
        if (!append) stream.Position = 0;
        var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions(), append, ct).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            if (!append) writer.CustomMetadata = new Dictionary<string, string> { [FileLayout.MetadataKey] = layout.ToJson() };
            if (batch.Count > 0)
            {
                using var rg = writer.CreateRowGroup();
                await WriteColumnsAsync(rg, schema.GetDataFields(), layout, batch, ct).ConfigureAwait(false);
                rg.CompleteValidate();
            }
        }
        stream.SetLength(stream.Position);
    }

    private static async Task WriteColumnsAsync(ParquetRowGroupWriter rg, DataField[] fields, FileLayout layout, IReadOnlyList<VectorRecord> batch, CancellationToken ct)
    {
        var n = batch.Count;
        var ids = new ReadOnlyMemory<char>[n];
        var kinds = new ReadOnlyMemory<char>[n];
        var namespaces = new List<ReadOnlyMemory<char>>();
        var nsLevels = new int[n];
        var payloads = new List<ReadOnlyMemory<char>>();
        var payloadLevels = new int[n];
        for (var i = 0; i < n; i++)
        {
            var r = batch[i];
            ids[i] = r.Id.ToString().AsMemory();
            kinds[i] = KindNames[r.Id.Kind switch { PointIdKind.Unsigned => 0, PointIdKind.Uuid => 1, _ => 2 }];
            if (r.Namespace is { } ns)
            {
                namespaces.Add(ns.AsMemory());
                nsLevels[i] = 1;
            }
            if (r.Payload is { } p)
            {
                payloads.Add(StrictUtf8.GetString(p.Utf8Json.Span).AsMemory());
                payloadLevels[i] = 1;
            }
        }
        var f = 0;
        await rg.WriteAllPartsAsync<ReadOnlyMemory<char>>(fields[f++], ids, null, null, ct).ConfigureAwait(false);
        await rg.WriteAllPartsAsync<ReadOnlyMemory<char>>(fields[f++], kinds, null, null, ct).ConfigureAwait(false);
        await rg.WriteAllPartsAsync<ReadOnlyMemory<char>>(fields[f++], namespaces.ToArray(), nsLevels, null, ct).ConfigureAwait(false);
        await rg.WriteAllPartsAsync<ReadOnlyMemory<char>>(fields[f++], payloads.ToArray(), payloadLevels, null, ct).ConfigureAwait(false);
        foreach (var v in layout.Vectors)
        {
            switch (v.Field.Kind)
            {
                case VectorKind.Dense:
                    await WriteListAsync(rg, fields[f++], batch, v.Field.Name, static (VectorValue x) => ((DenseVector)x).Values, ct).ConfigureAwait(false);
                    break;
                case VectorKind.Sparse:
                    await WriteListAsync(rg, fields[f++], batch, v.Field.Name, static (VectorValue x) => ((SparseVector)x).Indices, ct).ConfigureAwait(false);
                    await WriteListAsync(rg, fields[f++], batch, v.Field.Name, static (VectorValue x) => ((SparseVector)x).Values, ct).ConfigureAwait(false);
                    break;
                case VectorKind.Multi:
                    await WriteMultiAsync(rg, fields[f++], batch, v.Field.Name, ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    // A list column's levels: definition 0 = no vector, 1 = empty list, 2 = a value; repetition 0 starts a row.
    private static async Task WriteListAsync<T>(ParquetRowGroupWriter rg, DataField field, IReadOnlyList<VectorRecord> batch, string name,
        Func<VectorValue, T[]> valuesOf, CancellationToken ct) where T : struct
    {
        long values = 0, levels = 0;
        foreach (var r in batch)
        {
            var count = r.Vectors.TryGetValue(name, out var vv) ? valuesOf(vv).Length : 0;
            values += count;
            levels += Math.Max(1, count);
        }
        var data = ArrayPool<T>.Shared.Rent((int)values);
        var def = ArrayPool<int>.Shared.Rent((int)levels);
        var rep = ArrayPool<int>.Shared.Rent((int)levels);
        try
        {
            int vi = 0, li = 0;
            foreach (var r in batch)
            {
                if (!r.Vectors.TryGetValue(name, out var vv))
                {
                    def[li] = 0;
                    rep[li++] = 0;
                    continue;
                }
                var xs = valuesOf(vv);
                if (xs.Length == 0)
                {
                    def[li] = 1;
                    rep[li++] = 0;
                    continue;
                }
                xs.CopyTo(data, vi);
                vi += xs.Length;
                for (var j = 0; j < xs.Length; j++)
                {
                    def[li] = 2;
                    rep[li++] = j == 0 ? 0 : 1;
                }
            }
            await rg.WriteAllPartsAsync<T>(field, data.AsMemory(0, vi), def.AsMemory(0, li), rep.AsMemory(0, li), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(data);
            ArrayPool<int>.Shared.Return(def);
            ArrayPool<int>.Shared.Return(rep);
        }
    }

    // A list of lists: definition 0 = none, 1 = no inner vectors, 3 = an empty inner vector, 4 = a value (2, a null
    // inner list, is never written); repetition 0 starts a row, 1 an inner vector, 2 continues one.
    private static async Task WriteMultiAsync(ParquetRowGroupWriter rg, DataField field, IReadOnlyList<VectorRecord> batch, string name, CancellationToken ct)
    {
        long values = 0, levels = 0;
        foreach (var r in batch)
        {
            if (!r.Vectors.TryGetValue(name, out var vv) || ((MultiVector)vv).Vectors.Length == 0)
            {
                levels++;
                continue;
            }
            foreach (var inner in ((MultiVector)vv).Vectors)
            {
                values += inner.Length;
                levels += Math.Max(1, inner.Length);
            }
        }
        var data = ArrayPool<float>.Shared.Rent((int)values);
        var def = ArrayPool<int>.Shared.Rent((int)levels);
        var rep = ArrayPool<int>.Shared.Rent((int)levels);
        try
        {
            int vi = 0, li = 0;
            foreach (var r in batch)
            {
                if (!r.Vectors.TryGetValue(name, out var vv) || ((MultiVector)vv).Vectors.Length == 0)
                {
                    def[li] = vv is null ? 0 : 1;
                    rep[li++] = 0;
                    continue;
                }
                var inners = ((MultiVector)vv).Vectors;
                for (var k = 0; k < inners.Length; k++)
                {
                    var xs = inners[k];
                    if (xs.Length == 0)
                    {
                        def[li] = 3;
                        rep[li++] = k == 0 ? 0 : 1;
                        continue;
                    }
                    xs.CopyTo(data, vi);
                    vi += xs.Length;
                    for (var j = 0; j < xs.Length; j++)
                    {
                        def[li] = 4;
                        rep[li++] = j > 0 ? 2 : k > 0 ? 1 : 0;
                    }
                }
            }
            await rg.WriteAllPartsAsync<float>(field, data.AsMemory(0, vi), def.AsMemory(0, li), rep.AsMemory(0, li), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(data);
            ArrayPool<int>.Shared.Return(def);
            ArrayPool<int>.Shared.Return(rep);
        }
    }

    // ---- reading -------------------------------------------------------------------------

    /// <summary>One column chunk read raw: its non-null values and its levels.</summary>
    private sealed class Chunk<T>(T[] values, int[]? def, int[]? rep, int levels) where T : struct
    {
        public T[] Values { get; } = values;
        public int[]? Def { get; } = def;
        public int[]? Rep { get; } = rep;
        public int Levels { get; } = levels;
        public int Vi { get; set; }
        public int Li { get; set; }
    }

    private static async Task<Chunk<T>> ReadChunkAsync<T>(ParquetRowGroupReader rg, DataField field, CancellationToken ct) where T : struct
    {
        var meta = rg.GetMetadata(field)?.MetaData ?? throw new FormatException($"column '{field.Path}' is missing");
        var count = checked((int)meta.NumValues);
        var values = new T[count];
        var def = field.MaxDefinitionLevel > 0 ? new int[count] : null;
        var rep = field.MaxRepetitionLevel > 0 ? new int[count] : null;
        await rg.ReadRawAsync(field, values.AsMemory(), def?.AsMemory(), rep?.AsMemory(), ct).ConfigureAwait(false);
        return new Chunk<T>(values, def, rep, count);
    }

    /// <summary>
    /// Reads row group <paramref name="index"/> of <paramref name="reader"/> into records, skipping the first
    /// <paramref name="skip"/> rows. Throws <see cref="FormatException"/> naming the row that is wrong (relative to the
    /// row group; the caller adds the file and the row group's first row).
    /// </summary>
    public static async Task<List<VectorRecord>> ReadRowGroupAsync(ParquetReader reader, int index, FileLayout layout,
        Func<int, VectorRecord, VectorRecord> stamp, int skip, CancellationToken ct)
    {
        var rg = reader.OpenRowGroupReader(index);
        var rows = checked((int)rg.RowCount);
        var fields = reader.Schema.GetDataFields();
        DataField Field(string path) => fields.FirstOrDefault(d => d.Path.ToString() == path)
            ?? throw new FormatException($"it has no column '{path}'");
        var ids = await ReadChunkAsync<ReadOnlyMemory<char>>(rg, Field(FileLayout.IdColumn), ct).ConfigureAwait(false);
        var kinds = await ReadChunkAsync<ReadOnlyMemory<char>>(rg, Field(FileLayout.IdKindColumn), ct).ConfigureAwait(false);
        var namespaces = await ReadChunkAsync<ReadOnlyMemory<char>>(rg, Field(FileLayout.NamespaceColumn), ct).ConfigureAwait(false);
        var payloads = await ReadChunkAsync<ReadOnlyMemory<char>>(rg, Field(FileLayout.PayloadColumn), ct).ConfigureAwait(false);
        if (ids.Levels != rows || kinds.Levels != rows || namespaces.Levels != rows || payloads.Levels != rows)
        {
            throw new FormatException($"its record columns do not have {rows} rows");
        }
        var dense = new List<(string Name, Chunk<float> Chunk)>();
        var sparse = new List<(string Name, Chunk<uint> Indices, Chunk<float> Values)>();
        var multi = new List<(string Name, Chunk<float> Chunk)>();
        foreach (var v in layout.Vectors)
        {
            var name = v.Field.Name;
            switch (v.Field.Kind)
            {
                case VectorKind.Dense:
                    dense.Add((name, await ReadChunkAsync<float>(rg, ListLeaf(Field, v.Column, 1), ct).ConfigureAwait(false)));
                    break;
                case VectorKind.Sparse:
                    sparse.Add((name, await ReadChunkAsync<uint>(rg, ListLeaf(Field, v.Column, 1), ct).ConfigureAwait(false),
                        await ReadChunkAsync<float>(rg, ListLeaf(Field, v.ValuesColumn!, 1), ct).ConfigureAwait(false)));
                    break;
                case VectorKind.Multi:
                    multi.Add((name, await ReadChunkAsync<float>(rg, ListLeaf(Field, v.Column, 2), ct).ConfigureAwait(false)));
                    break;
            }
        }

        var records = new List<VectorRecord>(Math.Max(0, rows - skip));
        for (var row = 0; row < rows; row++)
        {
            var id = new string(ids.Values[row].Span);
            var kind = new string(kinds.Values[row].Span);
            if (!FileLayout.TryParseId(id, kind, out var pointId)) throw new FormatException($"row {row} has id '{id}', which is not a {kind} id");
            string? ns = namespaces.Def![row] == 1 ? new string(namespaces.Values[namespaces.Vi++].Span) : null;
            JsonPayload? payload = null;
            if (payloads.Def![row] == 1)
            {
                var text = payloads.Values[payloads.Vi++].Span;
                var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
                Encoding.UTF8.GetBytes(text, bytes);
                payload = new JsonPayload(bytes);
            }
            var vectors = new Dictionary<string, VectorValue>(StringComparer.Ordinal);
            foreach (var (name, c) in dense)
            {
                if (NextList(c, row) is { } xs) vectors[name] = new DenseVector(xs);
            }
            foreach (var (name, ci, cv) in sparse)
            {
                var indices = NextList(ci, row);
                var values = NextList(cv, row);
                if ((indices is null) != (values is null) || (indices is not null && indices.Length != values!.Length))
                {
                    throw new FormatException($"row {row} has sparse vector '{name}' with {indices?.Length.ToString() ?? "no"} indices and {values?.Length.ToString() ?? "no"} values");
                }
                if (indices is not null) vectors[name] = new SparseVector(indices, values!);
            }
            foreach (var (name, c) in multi)
            {
                if (NextMulti(c, row) is { } m) vectors[name] = new MultiVector(m);
            }
            if (row < skip) continue;
            if (payload is not null && !IsJsonObject(payload)) throw new FormatException($"row {row} has a payload that is not a JSON object");
            records.Add(stamp(row, new VectorRecord(pointId, vectors, payload) { Namespace = ns }));
        }
        return records;
    }

    private static DataField ListLeaf(Func<string, DataField> field, string column, int depth)
    {
        var path = column + string.Concat(Enumerable.Repeat("/list/element", depth));
        return field(path);
    }

    private static T[]? NextList<T>(Chunk<T> c, int row) where T : struct
    {
        if (c.Li >= c.Levels) throw new FormatException($"row {row} is missing from a vector column");
        var d = c.Def![c.Li];
        if (d == 0 || d == 1)
        {
            c.Li++;
            return d == 0 ? null : [];
        }
        var start = c.Vi;
        do
        {
            c.Li++;
            c.Vi++;
        } while (c.Li < c.Levels && c.Rep![c.Li] == 1);
        return c.Values.AsSpan(start, c.Vi - start).ToArray();
    }

    private static float[][]? NextMulti(Chunk<float> c, int row)
    {
        if (c.Li >= c.Levels) throw new FormatException($"row {row} is missing from a multivector column");
        var d = c.Def![c.Li];
        if (d <= 1)
        {
            c.Li++;
            return d == 0 ? null : [];
        }
        var inners = new List<float[]>();
        do
        {
            // At the start of an inner vector (repetition 0 or 1).
            if (c.Def[c.Li] == 3)
            {
                inners.Add([]);
                c.Li++;
                continue;
            }
            if (c.Def[c.Li] != 4) throw new FormatException($"row {row} has a null inner vector");
            var start = c.Vi;
            do
            {
                c.Li++;
                c.Vi++;
            } while (c.Li < c.Levels && c.Rep![c.Li] == 2);
            inners.Add(c.Values.AsSpan(start, c.Vi - start).ToArray());
        } while (c.Li < c.Levels && c.Rep![c.Li] == 1);
        return inners.ToArray();
    }

    private static bool IsJsonObject(JsonPayload p)
    {
        var s = p.Utf8Json.Span;
        var i = 0;
        while (i < s.Length && s[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i < s.Length && s[i] == (byte)'{';
    }
}
