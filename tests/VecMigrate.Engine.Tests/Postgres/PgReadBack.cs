using Npgsql;
using Pgvector.Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Postgres;

/// <summary>Reads a table back in binary (pgvector's own *_send functions) for exact comparison.</summary>
internal static class PgReadBack
{
    public static async Task<Dictionary<string, (string Type, bool NotNull)>> ColumnsAsync(string cs, string table, string schema = "public")
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a
            WHERE a.attrelid = to_regclass(@t) AND a.attnum > 0 AND NOT a.attisdropped
            """, c);
        cmd.Parameters.AddWithValue("t", $"\"{schema.Replace("\"", "\"\"")}\".\"{table.Replace("\"", "\"\"")}\"");
        var result = new Dictionary<string, (string, bool)>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) result[r.GetString(0)] = (r.GetString(1), r.GetBoolean(2));
        return result;
    }

    public static async Task<long> CountAsync(string cs, string table)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", c);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every row: id as text, namespace, each named column's send() bytes, payload as text.</summary>
    public static async Task<List<Row>> RowsAsync(string cs, string table, IReadOnlyList<(string Column, string SendFn)> vectorColumns, string? payload = "payload", bool ns = false)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var cols = new List<string> { "id::text" };
        if (ns) cols.Add("namespace");
        cols.AddRange(vectorColumns.Select(v => $"{v.SendFn}(\"{v.Column}\")"));
        if (payload != null) cols.Add($"\"{payload}\"::text");
        await using var cmd = new NpgsqlCommand($"SELECT {string.Join(", ", cols)} FROM \"{table}\"", c);
        var rows = new List<Row>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            var i = 0;
            var id = r.GetString(i++);
            var nsv = ns ? r.GetString(i++) : null;
            var vecs = new byte[]?[vectorColumns.Count];
            for (var v = 0; v < vectorColumns.Count; v++, i++) vecs[v] = r.IsDBNull(i) ? null : r.GetFieldValue<byte[]>(i);
            var p = payload != null && !r.IsDBNull(i) ? r.GetString(i) : null;
            rows.Add(new Row(id, nsv, vecs, p));
        }
        return rows;
    }

    public sealed record Row(string Id, string? Namespace, byte[]?[] Vectors, string? Payload);

    public static void AssertBitsEqual(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: position {i} is {actual[i]:R}, expected {expected[i]:R}");
            }
        }
    }

    public static SourceSchema Schema(IdKinds ids, params VectorField[] vectors) =>
        new(SourceKind.Qdrant, "test", ids, vectors, hasNamespaces: false, payloadName: "payload");

    public static VectorRecord Dense(PointId id, float[] v, string? payload = null, SourceSchema? schema = null) =>
        new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(v) }, payload is null ? null : JsonPayload.FromString(payload)) { Schema = schema };

    public static float[] RandomVector(Random rng, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}

/// <summary>
/// Reads vector columns back through the Pgvector package (its own Npgsql type handlers): a decoder that shares no
/// code with the writer's <see cref="PgVectorCodec"/>, so that a mistake in one is not hidden by the same mistake in
/// the other.
/// </summary>
internal static class PgvectorReadBack
{
    /// <summary>Each row's value of <paramref name="column"/> by id (as text): <c>Pgvector.Vector</c>, <c>HalfVector</c>, <c>SparseVector</c>, an array of them, or null.</summary>
    public static async Task<Dictionary<string, object?>> ValuesAsync(string cs, string table, string column)
    {
        var builder = new Npgsql.NpgsqlDataSourceBuilder(cs);
        builder.UseVector();
        await using var source = builder.Build();
        await using var cmd = source.CreateCommand($"SELECT id::text, \"{column}\" FROM \"{table}\"");
        await using var reader = await cmd.ExecuteReaderAsync();
        var values = new Dictionary<string, object?>();
        while (await reader.ReadAsync()) values[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetValue(1);
        return values;
    }
}
