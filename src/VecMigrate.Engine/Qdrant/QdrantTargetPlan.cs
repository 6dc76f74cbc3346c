using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// What writing a source's records into a Qdrant collection means: the collection to create (when it is missing),
/// or the existing one and what in it cannot take the records (<see cref="Problems"/>, which stop the write before
/// anything is written) or differs harmlessly (<see cref="Warnings"/>: a different distance changes scores, not
/// the stored values).
/// </summary>
public sealed class QdrantTargetPlan
{
    internal QdrantTargetPlan(string collection, bool exists, IReadOnlyList<QdrantVectorParams> vectors,
        IReadOnlyList<QdrantSparseVectorParams> sparseVectors, IReadOnlyList<string> problems, IReadOnlyList<string> warnings)
    {
        Collection = collection;
        Exists = exists;
        Vectors = vectors;
        SparseVectors = sparseVectors;
        Problems = problems;
        Warnings = warnings;
    }

    public string Collection { get; }

    /// <summary>True when the collection is there already; false when the write would create it.</summary>
    public bool Exists { get; }

    /// <summary>The dense and multivector spaces: the collection's own, or those a new collection gets.</summary>
    public IReadOnlyList<QdrantVectorParams> Vectors { get; }

    public IReadOnlyList<QdrantSparseVectorParams> SparseVectors { get; }

    /// <summary>Why an existing collection cannot take the records; empty when it can.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Differences that do not stop the write (another distance than the source's).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The vector spaces a source needs, as one record shows them when the source has no schema.</summary>
    internal static SourceSchema SchemaOf(VectorRecord record)
    {
        var fields = new List<VectorField>(record.Vectors.Count);
        foreach (var (name, value) in record.Vectors)
        {
            fields.Add(new VectorField(name, value.Kind, value.Kind == VectorKind.Sparse ? null : value.Length));
        }
        var kinds = record.Id.Kind switch
        {
            PointIdKind.Unsigned => IdKinds.Unsigned,
            PointIdKind.Uuid => IdKinds.Uuid,
            _ => IdKinds.String,
        };
        return new SourceSchema(SourceKind.Objects, "records", kinds, fields, record.Namespace is not null, "payload");
    }

    /// <summary>
    /// The collection that fits <paramref name="schema"/>: its dense and multivector spaces with their dimensions and
    /// metrics (<paramref name="distance"/> overriding them all), its sparse spaces. The source's unnamed vector
    /// becomes Qdrant's unnamed vector, so named sparse vectors may sit beside it (Pinecone's dense + sparse).
    /// </summary>
    internal static QdrantTargetPlan ForNewCollection(string collection, SourceSchema schema, VectorRecord first, DistanceMetric? distance,
        IReadOnlyDictionary<string, string>? sparseModifiers)
    {
        var vectors = new List<QdrantVectorParams>();
        var sparse = new List<QdrantSparseVectorParams>();
        var noMetric = new List<string>();
        var noDimension = new List<string>();
        foreach (var f in schema.Vectors)
        {
            if (f.Kind == VectorKind.Sparse)
            {
                if (f.Name.Length == 0)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantVectorNamesUnsupported",
                        $"The source's unnamed vector is sparse, and Qdrant names every sparse vector; nothing was created in '{collection}'.", collection);
                }
                string? modifier = null;
                sparseModifiers?.TryGetValue(f.Name, out modifier);
                sparse.Add(new QdrantSparseVectorParams(f.Name, modifier, null));
                continue;
            }
            var dimension = f.Dimension ?? (first.Vectors.TryGetValue(f.Name, out var v) && v.Length > 0 ? v.Length : null);
            if (dimension is null)
            {
                noDimension.Add(Label(f.Name));
                continue;
            }
            var metric = distance ?? f.Metric;
            if (metric == DistanceMetric.Unknown)
            {
                noMetric.Add(Label(f.Name));
                continue;
            }
            vectors.Add(new QdrantVectorParams(f.Name, dimension.Value, metric, metric.ToString(), null, f.Kind == VectorKind.Multi ? "max_sim" : null));
        }
        if (noMetric.Count > 0)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantDistanceRequired",
                $"The source does not say which distance {Join(noMetric)} {(noMetric.Count == 1 ? "uses" : "use")}, and a Qdrant collection needs one for every dense vector: " +
                $"give the Distance option (Cosine, Euclid, Dot or Manhattan). Nothing was created in '{collection}'.", collection);
        }
        if (noDimension.Count > 0)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantDimensionUnknown",
                $"Neither the source nor its first record tells the dimension of {Join(noDimension)}; nothing was created in '{collection}'.", collection);
        }
        if (vectors.Count > 1 && vectors.Exists(p => p.Name.Length == 0))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantVectorNamesUnsupported",
                $"The source has an unnamed dense vector beside named ones ({Quoted(vectors.Where(p => p.Name.Length > 0).Select(p => p.Name))}); " +
                $"Qdrant holds either one unnamed dense vector or only named ones. Nothing was created in '{collection}'.", collection);
        }
        return new QdrantTargetPlan(collection, exists: false, vectors, sparse, [], []);
    }

    /// <summary>Compares an existing collection with what the source's records need, listing every problem.</summary>
    internal static QdrantTargetPlan ForExistingCollection(QdrantCollectionInfo info, SourceSchema schema, DistanceMetric? distance)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        foreach (var f in schema.Vectors)
        {
            var dense = info.Vectors.FirstOrDefault(v => v.Name == f.Name);
            var sparse = info.SparseVectors.FirstOrDefault(v => v.Name == f.Name);
            var label = Label(f.Name);
            if (f.Kind == VectorKind.Sparse)
            {
                if (sparse is not null) continue;
                problems.Add(dense is not null
                    ? $"{label} is sparse in the source but {(dense.IsMultivector ? "a multivector" : "dense")} in the collection"
                    : f.Name.Length == 0 ? "the source's unnamed vector is sparse, and Qdrant names every sparse vector"
                    : $"the collection has no sparse vector '{f.Name}'");
                continue;
            }
            if (dense is null)
            {
                if (sparse is not null) problems.Add($"{label} is {(f.Kind == VectorKind.Multi ? "a multivector" : "dense")} in the source but sparse in the collection");
                else if (f.Name.Length == 0 && info.Vectors.Count > 0) problems.Add($"the source's unnamed vector has no place: the collection's dense vectors are all named ({Quoted(info.Vectors.Select(v => v.Name))})");
                else if (f.Name.Length > 0 && info.HasUnnamedVector) problems.Add($"the source's vector '{f.Name}' is named, but the collection has a single unnamed vector");
                else problems.Add($"the collection has no {(f.Kind == VectorKind.Multi ? "multivector" : "dense vector")} {(f.Name.Length == 0 ? "for the source's unnamed vector" : $"'{f.Name}'")}");
                continue;
            }
            if ((f.Kind == VectorKind.Multi) != dense.IsMultivector)
            {
                problems.Add($"{label} is {(f.Kind == VectorKind.Multi ? "a multivector" : "a plain dense vector")} in the source but {(dense.IsMultivector ? "a multivector" : "a plain dense vector")} in the collection");
                continue;
            }
            if (f.Dimension is { } d && d != dense.Size)
            {
                problems.Add($"{label} has {d} dimensions in the source but {dense.Size} in the collection");
            }
            if (dense.Datatype is { } dt && dt != "float32")
            {
                problems.Add($"{label} is stored as {dt} in the collection, which would change float32 values");
            }
            var wanted = distance ?? f.Metric;
            if (wanted != DistanceMetric.Unknown && wanted != dense.Distance)
            {
                warnings.Add($"{label} uses {wanted} distance in the {(distance is null ? "source" : "Distance option")} but {dense.DistanceName} in the collection: scores will differ");
            }
        }
        return new QdrantTargetPlan(info.Name, exists: true, info.Vectors, info.SparseVectors, problems, warnings);
    }

    private static string Label(string name) => name.Length == 0 ? "the unnamed vector" : $"vector '{name}'";

    private static string Join(IEnumerable<string> labels) => string.Join(", ", labels);

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
