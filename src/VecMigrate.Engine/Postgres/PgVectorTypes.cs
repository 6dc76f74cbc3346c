using System.Runtime.InteropServices;
using Npgsql;
using Pgvector;
using Pgvector.Npgsql;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// Reading pgvector's types through Npgsql with the Pgvector package's converters (<c>UseVector()</c>): <c>vector</c>,
/// <c>halfvec</c>, <c>sparsevec</c> and their arrays come as <see cref="Vector"/>, <see cref="HalfVector"/>,
/// <see cref="SparseVector"/> in Npgsql's binary protocol. The writer keeps its own binary COPY encoder
/// (<see cref="PgVectorCodec"/>), which is measured (README, "Benchmark").
/// </summary>
internal static class PgVectorTypes
{
    /// <summary>A connection (not yet open) whose reads know pgvector's types (<see cref="PgDataSources"/>: all of them do).</summary>
    public static NpgsqlConnection CreateConnection(string connectionString) => PgDataSources.CreateConnection(connectionString);

    /// <summary>The floats of a <see cref="Vector"/>: its own array when it has one (it does when read), else a copy.</summary>
    public static float[] Floats(Vector v) =>
        MemoryMarshal.TryGetArray(v.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : v.ToArray();

    public static float[] Floats(HalfVector v)
    {
        var half = v.Memory.Span;
        var result = new float[half.Length];
        for (var i = 0; i < half.Length; i++) result[i] = (float)half[i];
        return result;
    }

    public static Records.SparseVector Sparse(SparseVector v)
    {
        var indices = v.Indices.Span;
        var result = new uint[indices.Length];
        for (var i = 0; i < indices.Length; i++) result[i] = (uint)indices[i];
        return new Records.SparseVector(result, v.Values.ToArray());
    }
}
