using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// What a <see cref="PineconeSink"/> writes where: the target index as described, and which vector of the
/// records becomes Pinecone's dense <c>values</c> and which its <c>sparseValues</c>. Fixed by the first record
/// (its source schema when it has one) before anything is sent.
/// </summary>
/// <param name="IndexName">The index name.</param>
/// <param name="IndexUrl">The index's data-plane url.</param>
/// <param name="Dimension">The index's dense dimension; null for a sparse index (or where not reported).</param>
/// <param name="Metric">The index's metric (<c>cosine</c>, <c>euclidean</c>, <c>dotproduct</c>).</param>
/// <param name="VectorType"><c>dense</c> or <c>sparse</c>.</param>
/// <param name="DenseVector">The record vector written as <c>values</c>; null for a sparse index.</param>
/// <param name="SparseVector">The record vector written as <c>sparseValues</c>; null for none.</param>
/// <param name="LeftBehind">Vectors of the source that are not written (only where a vector was named explicitly).</param>
/// <param name="LeaveOthers">True when vectors were named explicitly: any other vector of a record is left behind.</param>
public sealed record PineconeWritePlan(
    string IndexName, Uri IndexUrl, int? Dimension, string Metric, string VectorType,
    string? DenseVector, string? SparseVector, IReadOnlyList<string> LeftBehind, bool LeaveOthers)
{
    /// <summary>True for an index of vector type <c>sparse</c>.</summary>
    public bool IsSparseIndex => string.Equals(VectorType, "sparse", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the index can use sparse values: sparse indexes, and dense indexes with the dotproduct metric.
    /// Pinecone stores sparse values in a dense index of another metric but cannot query them.
    /// </summary>
    public bool TakesSparse => IsSparseIndex || string.Equals(Metric, "dotproduct", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Chooses the vectors and checks that the records described by <paramref name="fields"/> fit the index.
    /// Throws <see cref="VecMigrateException"/> (<see cref="PineconeErrorIds.IndexIncompatible"/>,
    /// <see cref="PineconeErrorIds.VectorChoiceNeeded"/>, <see cref="PineconeErrorIds.MultivectorUnsupported"/>)
    /// when they cannot.
    /// </summary>
    internal static PineconeWritePlan Choose(PineconeIndexModel index, Uri indexUrl, IReadOnlyList<VectorField> fields,
        string? vectorName, string? sparseVectorName)
    {
        var draft = new PineconeWritePlan(index.Name, indexUrl, index.Dimension, index.Metric, index.VectorType, null, null, [],
            vectorName is not null || sparseVectorName is not null);
        var have = fields.Count == 0 ? "no vectors" : "vectors " + string.Join(", ", fields.Select(Describe));
        string? dense = null;
        string? sparse = null;

        if (vectorName is not null)
        {
            if (draft.IsSparseIndex)
            {
                throw draft.Incompatible($"it is a sparse index, which takes no dense values, but VectorName names '{vectorName}'", fields);
            }
            var f = Find(fields, vectorName) ?? throw draft.Choice($"VectorName names '{vectorName}', but the records have {have}");
            if (f.Kind == VectorKind.Multi) throw draft.Multi($"VectorName names '{vectorName}', a multivector");
            if (f.Kind != VectorKind.Dense) throw draft.Choice($"VectorName names '{vectorName}', which is {Kind(f)}; name a sparse vector as SparseVectorName");
            dense = vectorName;
        }
        else if (!draft.IsSparseIndex)
        {
            var denses = fields.Where(f => f.Kind == VectorKind.Dense).ToList();
            if (Find(denses, VectorRecord.DefaultVectorName) is not null) dense = VectorRecord.DefaultVectorName;
            else if (denses.Count == 1) dense = denses[0].Name;
            if (dense is null && denses.Count > 1)
            {
                throw draft.Choice($"the records have several dense vectors ({string.Join(", ", denses.Select(f => Quote(f.Name)))}) and a Pinecone record holds one; name the one to write as VectorName (the others are left behind)");
            }
        }

        if (sparseVectorName is not null)
        {
            if (!draft.TakesSparse)
            {
                throw draft.Incompatible($"its metric is {index.Metric}: Pinecone queries sparse values only in dotproduct (or sparse) indexes, but SparseVectorName names '{sparseVectorName}'", fields);
            }
            var f = Find(fields, sparseVectorName) ?? throw draft.Choice($"SparseVectorName names '{sparseVectorName}', but the records have {have}");
            if (f.Kind != VectorKind.Sparse) throw draft.Choice($"SparseVectorName names '{sparseVectorName}', which is {Kind(f)}, not sparse");
            sparse = sparseVectorName;
        }
        else if (draft.TakesSparse)
        {
            var sparses = fields.Where(f => f.Kind == VectorKind.Sparse).ToList();
            if (sparses.Count == 1) sparse = sparses[0].Name;
            else if (sparses.Count > 1 && !draft.LeaveOthers)
            {
                throw draft.Choice($"the records have several sparse vectors ({string.Join(", ", sparses.Select(f => Quote(f.Name)))}) and a Pinecone record holds one; name the one to write as SparseVectorName (the others are left behind)");
            }
        }

        if (!draft.IsSparseIndex && dense is null)
        {
            if (fields.Any(f => f.Kind == VectorKind.Multi) && !fields.Any(f => f.Kind == VectorKind.Dense))
            {
                throw draft.Multi("the records' only dense data is multivectors");
            }
            throw draft.Incompatible($"it is a dense index, which needs dense values, and the records have {have}", fields);
        }
        if (draft.IsSparseIndex && sparse is null)
        {
            throw draft.Incompatible($"it is a sparse index, which needs sparse values, and the records have {have}", fields);
        }

        var others = fields.Where(f => !string.Equals(f.Name, dense, StringComparison.Ordinal) && !string.Equals(f.Name, sparse, StringComparison.Ordinal)).ToList();
        if (others.Count > 0 && !draft.LeaveOthers)
        {
            // Nothing is dropped unless the user named what to write: say what cannot go and how to choose.
            if (others.FirstOrDefault(f => f.Kind == VectorKind.Multi) is { } multi)
            {
                throw draft.Multi($"the records have the multivector {Quote(multi.Name)} beside {Quote(dense ?? sparse!)}; name the vector to write as VectorName to leave it behind");
            }
            if (others.FirstOrDefault(f => f.Kind == VectorKind.Sparse) is { } sp && !draft.TakesSparse)
            {
                throw draft.Incompatible($"the records may carry the sparse vector {Quote(sp.Name)}, and the index's metric is {index.Metric}: Pinecone stores sparse values in such an index but can query them only in a dotproduct index. Create the index with metric dotproduct, or name VectorName to leave the sparse values behind", fields);
            }
            if (draft.IsSparseIndex)
            {
                throw draft.Incompatible($"it is a sparse index, which takes only sparse values, and the records also have {string.Join(", ", others.Select(Describe))}; write into a dense dotproduct index, or name SparseVectorName to leave them behind", fields);
            }
            throw draft.Choice($"the records have several dense vectors ({string.Join(", ", fields.Where(f => f.Kind == VectorKind.Dense).Select(f => Quote(f.Name)))}) and a Pinecone record holds one; name the one to write as VectorName (the others are left behind)");
        }

        if (dense is not null && index.Dimension is { } dim && Find(fields, dense)?.Dimension is { } have2 && have2 != dim)
        {
            throw draft.Incompatible($"its dimension is {dim}, and the records' dense vector {Quote(dense)} has {have2} dimensions", fields);
        }
        return draft with { DenseVector = dense, SparseVector = sparse, LeftBehind = others.Select(f => f.Name).ToList() };
    }

    private static VectorField? Find(IEnumerable<VectorField> fields, string name) =>
        fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    internal static string Quote(string name) => name.Length == 0 ? "'' (the unnamed vector)" : $"'{name}'";

    private static string Kind(VectorField f) => f.Kind switch
    {
        VectorKind.Dense => "dense",
        VectorKind.Sparse => "sparse",
        _ => "a multivector",
    };

    private static string Describe(VectorField f) =>
        $"{Quote(f.Name)} ({Kind(f)}{(f.Kind != VectorKind.Sparse && f.Dimension is { } d ? $", {d} dimensions" : "")})";

    /// <summary>The Pinecone metric for a source metric, for the advice to create an index; null where Pinecone has none.</summary>
    internal static string? PineconeMetric(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "cosine",
        DistanceMetric.Euclid => "euclidean",
        DistanceMetric.Dot => "dotproduct",
        _ => null,
    };

    /// <summary>"create an index with dimension N and metric M" from the source's fields (VecMigrate creates no Pinecone index).</summary>
    internal static string CreateAdvice(IReadOnlyList<VectorField> fields, string? preferred = null)
    {
        var dense = (preferred is null ? null : Find(fields, preferred)) ?? Find(fields, VectorRecord.DefaultVectorName)
            ?? fields.FirstOrDefault(f => f.Kind == VectorKind.Dense);
        var hasSparse = fields.Any(f => f.Kind == VectorKind.Sparse);
        if (dense is { Kind: VectorKind.Dense })
        {
            var metric = PineconeMetric(dense.Metric);
            var dim = dense.Dimension is { } d ? $"dimension {d}" : "the dimension of the records' dense vectors";
            var m = hasSparse ? "metric dotproduct (sparse values need it)"
                : metric is null ? $"the metric you query with (the source's {dense.Metric} has no Pinecone equivalent)"
                : $"metric {metric} (the source's)";
            return $"VecMigrate does not create Pinecone indexes: create a dense index with {dim} and {m} first, then write again.";
        }
        if (hasSparse) return "VecMigrate does not create Pinecone indexes: create a sparse index (vector type sparse, metric dotproduct) first, then write again.";
        return "VecMigrate does not create Pinecone indexes: create one that fits the records first, then write again.";
    }

    private VecMigrateException Incompatible(string why, IReadOnlyList<VectorField> fields) =>
        new(FailureKind.IncompatibleTarget, PineconeErrorIds.IndexIncompatible,
            $"Pinecone index '{IndexName}' ({VectorType}{(Dimension is { } d ? $", dimension {d}" : "")}, metric {Metric}) cannot take the records: {why}. Nothing was written. {CreateAdvice(fields)}",
            IndexName);

    private VecMigrateException Choice(string why) =>
        new(FailureKind.InvalidArgument, PineconeErrorIds.VectorChoiceNeeded,
            $"Writing to Pinecone index '{IndexName}': {why}. Nothing was written.", IndexName);

    private VecMigrateException Multi(string why) =>
        new(FailureKind.IncompatibleTarget, PineconeErrorIds.MultivectorUnsupported,
            $"Writing to Pinecone index '{IndexName}': {why}. Pinecone has no multivectors (a record holds one dense and one sparse vector). Nothing was written.",
            IndexName);
}
