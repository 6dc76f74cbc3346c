using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>One dense (or multi-) vector space of a Qdrant collection, as <c>GET /collections/{name}</c> reports it.</summary>
/// <param name="Name">The vector's name; "" for a collection's single unnamed vector.</param>
/// <param name="Size">The dense dimension (of each row, for a multivector).</param>
/// <param name="Distance">The metric; <see cref="DistanceMetric.Unknown"/> for a name this engine does not know.</param>
/// <param name="DistanceName">The metric as Qdrant spells it ("Cosine", "Euclid", "Dot", "Manhattan").</param>
/// <param name="Datatype">"float32", "float16", "uint8", ... or null where Qdrant reports none (float32).</param>
/// <param name="MultivectorComparator">"max_sim" for a multivector space; null for a plain dense one.</param>
public sealed record QdrantVectorParams(string Name, int Size, DistanceMetric Distance, string DistanceName, string? Datatype, string? MultivectorComparator)
{
    public bool IsMultivector => MultivectorComparator is not null;
}

/// <summary>One sparse vector space of a Qdrant collection.</summary>
/// <param name="Name">The sparse vector's name.</param>
/// <param name="Modifier">"idf" or "none"; null where Qdrant reports none.</param>
/// <param name="Datatype">The sparse index's datatype, where reported.</param>
public sealed record QdrantSparseVectorParams(string Name, string? Modifier, string? Datatype);

/// <summary>What Qdrant says of a collection: its size, state and vector spaces.</summary>
public sealed class QdrantCollectionInfo
{
    public QdrantCollectionInfo(string name, string status, ulong? pointsCount, bool hasUnnamedVector,
        IReadOnlyList<QdrantVectorParams> vectors, IReadOnlyList<QdrantSparseVectorParams> sparseVectors)
    {
        Name = name;
        Status = status;
        PointsCount = pointsCount;
        HasUnnamedVector = hasUnnamedVector;
        Vectors = vectors;
        SparseVectors = sparseVectors;
    }

    public string Name { get; }

    /// <summary>"green", "yellow", "grey" or "red".</summary>
    public string Status { get; }

    /// <summary>Qdrant's approximate point count (it may lag behind recent writes); null when not reported.</summary>
    public ulong? PointsCount { get; }

    /// <summary>True when the collection has one unnamed vector (<c>"vectors": {"size": ..}</c>), named "" here.</summary>
    public bool HasUnnamedVector { get; }

    /// <summary>Dense and multivector spaces, in the order Qdrant lists them.</summary>
    public IReadOnlyList<QdrantVectorParams> Vectors { get; }

    public IReadOnlyList<QdrantSparseVectorParams> SparseVectors { get; }

    /// <summary>Reads the <c>result</c> of a <c>GET /collections/{name}</c> answer.</summary>
    internal static QdrantCollectionInfo Parse(string name, JsonElement result, Func<string, Exception> invalid)
    {
        if (result.ValueKind != JsonValueKind.Object) throw invalid("`result` is not an object");
        var status = result.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.String
            ? st.GetString()!
            : throw invalid("`result.status` is missing or not a string");
        ulong? count = null;
        if (result.TryGetProperty("points_count", out var pc) && pc.ValueKind != JsonValueKind.Null)
        {
            if (pc.ValueKind != JsonValueKind.Number || !pc.TryGetUInt64(out var n))
                throw invalid("`result.points_count` is not an unsigned integer");
            count = n;
        }
        if (!result.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object
            || !config.TryGetProperty("params", out var prms) || prms.ValueKind != JsonValueKind.Object)
        {
            throw invalid("`result.config.params` is missing");
        }

        var vectors = new List<QdrantVectorParams>();
        var unnamed = false;
        if (prms.TryGetProperty("vectors", out var vc) && vc.ValueKind != JsonValueKind.Null)
        {
            if (vc.ValueKind != JsonValueKind.Object) throw invalid("`config.params.vectors` is not an object");
            // VectorsConfig is either one VectorParams {size, distance, ..} or a map name -> VectorParams. A vector
            // named "size" would be an object, never a number, so a numeric "size" marks the unnamed form.
            if (vc.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number)
            {
                unnamed = true;
                vectors.Add(ParseVectorParams(VectorRecord.DefaultVectorName, vc, invalid));
            }
            else
            {
                foreach (var p in vc.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Object) throw invalid($"`config.params.vectors.{p.Name}` is not an object");
                    vectors.Add(ParseVectorParams(p.Name, p.Value, invalid));
                }
            }
        }

        var sparse = new List<QdrantSparseVectorParams>();
        if (prms.TryGetProperty("sparse_vectors", out var sc) && sc.ValueKind != JsonValueKind.Null)
        {
            if (sc.ValueKind != JsonValueKind.Object) throw invalid("`config.params.sparse_vectors` is not an object");
            foreach (var p in sc.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Object) throw invalid($"`config.params.sparse_vectors.{p.Name}` is not an object");
                string? datatype = null;
                if (p.Value.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Object)
                    datatype = OptionalString(index, "datatype");
                sparse.Add(new QdrantSparseVectorParams(p.Name, OptionalString(p.Value, "modifier"), datatype));
            }
        }
        return new QdrantCollectionInfo(name, status, count, unnamed, vectors, sparse);
    }

    private static QdrantVectorParams ParseVectorParams(string name, JsonElement e, Func<string, Exception> invalid)
    {
        var label = name.Length == 0 ? "config.params.vectors" : $"config.params.vectors.{name}";
        if (!e.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetUInt64(out var size) || size == 0 || size > int.MaxValue)
            throw invalid($"`{label}.size` is missing or not a positive integer");
        if (!e.TryGetProperty("distance", out var d) || d.ValueKind != JsonValueKind.String)
            throw invalid($"`{label}.distance` is missing or not a string");
        var distanceName = d.GetString()!;
        var metric = MetricOf(distanceName);
        string? comparator = null;
        if (e.TryGetProperty("multivector_config", out var mv) && mv.ValueKind == JsonValueKind.Object)
            comparator = OptionalString(mv, "comparator") ?? "max_sim";
        return new QdrantVectorParams(name, (int)size, metric, distanceName, OptionalString(e, "datatype"), comparator);
    }

    /// <summary>The metric of Qdrant's distance name (REST's string, gRPC's enum name); Unknown for one newer than this engine, kept by name, not refused.</summary>
    internal static DistanceMetric MetricOf(string distanceName) => distanceName switch
    {
        "Cosine" => DistanceMetric.Cosine,
        "Euclid" => DistanceMetric.Euclid,
        "Dot" => DistanceMetric.Dot,
        "Manhattan" => DistanceMetric.Manhattan,
        _ => DistanceMetric.Unknown,
    };

    private static string? OptionalString(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
