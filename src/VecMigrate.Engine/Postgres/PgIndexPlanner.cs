using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// Chooses the vector index for each vector column: the access method asked for, and the operator
/// class that matches the metric the source used. Refuses, before anything is written, the
/// combinations pgvector cannot index.
/// </summary>
public static class PgIndexPlanner
{
    /// <summary>pgvector's index limits: vector 2,000 dims, halfvec 4,000, sparsevec 1,000 non-zeros (HNSW only).</summary>
    public const int VectorIndexMaxDim = 2000;
    public const int HalfVecIndexMaxDim = 4000;
    public const int SparseIndexMaxNnz = 1000;

    /// <summary>The CREATE INDEX statements for <paramref name="plan"/>; empty for <see cref="PgIndexKind.None"/>.</summary>
    public static IReadOnlyList<string> Plan(PgTablePlan plan, PgIndexKind kind, DistanceMetric? metricOverride, SourceSchema? schema)
    {
        if (kind == PgIndexKind.None) return [];
        var result = new List<string>();
        var problems = new List<string>();
        foreach (var col in plan.VectorColumns)
        {
            var metric = metricOverride ?? schema?.FindVector(col.VectorName)?.Metric ?? DistanceMetric.Unknown;
            var (ops, problem) = OperatorClass(col, kind, metric);
            if (problem != null)
            {
                problems.Add($"column \"{col.Column}\": {problem}");
                continue;
            }
            var method = kind == PgIndexKind.Hnsw ? "hnsw" : "ivfflat";
            var name = Truncate($"{plan.Table}_{col.Column}_{method}_idx");
            var with = kind == PgIndexKind.IvfFlat ? " WITH (lists = 100)" : "";
            result.Add($"CREATE INDEX IF NOT EXISTS {PgTablePlan.Quote(name)} ON {plan.QualifiedName} USING {method} ({PgTablePlan.Quote(col.Column)} {ops}){with}");
        }
        if (problems.Count > 0)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgIndexNotPossible",
                $"A {kind} index cannot be built on {plan.DisplayName}: {string.Join("; ", problems)}. Nothing was written.", plan.DisplayName);
        }
        return result;
    }

    private static (string? Ops, string? Problem) OperatorClass(PgVectorColumn col, PgIndexKind kind, DistanceMetric metric)
    {
        var prefix = col.Storage switch
        {
            PgVectorStorage.Vector => "vector",
            PgVectorStorage.HalfVec => "halfvec",
            PgVectorStorage.SparseVec => "sparsevec",
            PgVectorStorage.RealArray => null,
            _ => null,
        };
        if (prefix is null)
        {
            return (null, col.Storage == PgVectorStorage.RealArray
                ? "real[] columns cannot have a vector index (choose the vector or halfvec type)"
                : "multivectors (vector[]) cannot be indexed by pgvector");
        }
        if (col.Storage == PgVectorStorage.Vector && col.Dimension > VectorIndexMaxDim)
        {
            return (null, $"vector({col.Dimension}) has more than {VectorIndexMaxDim} dimensions, pgvector's index limit; choose halfvec (indexable up to {HalfVecIndexMaxDim})");
        }
        if (col.Storage == PgVectorStorage.HalfVec && col.Dimension > HalfVecIndexMaxDim)
        {
            return (null, $"halfvec({col.Dimension}) has more than {HalfVecIndexMaxDim} dimensions, pgvector's index limit");
        }
        if (col.Storage == PgVectorStorage.SparseVec && kind == PgIndexKind.IvfFlat)
        {
            return (null, "IVFFlat cannot index sparsevec; use HNSW (sparse vectors of at most 1,000 non-zeros)");
        }
        var suffix = metric switch
        {
            DistanceMetric.Cosine => "cosine_ops",
            DistanceMetric.Euclid => "l2_ops",
            DistanceMetric.Dot => "ip_ops",
            DistanceMetric.Manhattan => "l1_ops",
            _ => null,
        };
        if (suffix is null) return (null, "the source names no distance metric; give one (cosine, euclid, dot, manhattan)");
        if (metric == DistanceMetric.Manhattan && kind == PgIndexKind.IvfFlat)
        {
            return (null, "IVFFlat has no L1 (manhattan) operator class; use HNSW");
        }
        return ($"{prefix}_{suffix}", null);
    }

    private static string Truncate(string name)
    {
        // Postgres cuts names at 63 bytes; cut at a character boundary ourselves so the name is what we say.
        var bytes = System.Text.Encoding.UTF8.GetByteCount(name);
        while (bytes > 63)
        {
            name = name[..^1];
            bytes = System.Text.Encoding.UTF8.GetByteCount(name);
        }
        return name;
    }
}
