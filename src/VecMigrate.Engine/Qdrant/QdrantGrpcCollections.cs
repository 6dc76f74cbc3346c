using Qdrant.Client.Grpc;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// Collections over gRPC (<c>qdrant.Collections/List</c>, <c>Get</c>, <c>Create</c>) through the official client's stubs,
/// for a client given a <see cref="QdrantClient.GrpcUrl"/>: a copy into or out of Qdrant over gRPC then describes and
/// creates its collection there too, and answers the same <see cref="QdrantCollectionInfo"/> the REST calls do.
/// </summary>
public sealed partial class QdrantClient
{
    private async Task<IReadOnlyList<string>> ListCollectionsGrpcAsync(Uri grpcUrl, CancellationToken cancellationToken)
    {
        const string what = "Listing Qdrant collections over gRPC";
        var target = new Uri(grpcUrl, "qdrant.Collections/List").GetLeftPart(UriPartial.Path);
        var answer = await CallGrpcAsync(
            (headers, deadline, ct) => Grpc.Collections.ListAsync(new ListCollectionsRequest(), headers, deadline, ct),
            what, target, null, cancellationToken).ConfigureAwait(false);
        return answer.Collections.Select(c => c.Name).ToList();
    }

    private async Task<QdrantCollectionInfo> GetCollectionGrpcAsync(Uri grpcUrl, string collection, CancellationToken cancellationToken)
    {
        var what = $"Describing Qdrant collection '{collection}' over gRPC";
        var target = new Uri(grpcUrl, "qdrant.Collections/Get").GetLeftPart(UriPartial.Path);
        var answer = await CallGrpcAsync(
            (headers, deadline, ct) => Grpc.Collections.GetAsync(new GetCollectionInfoRequest { CollectionName = collection }, headers, deadline, ct),
            what, target, collection, cancellationToken).ConfigureAwait(false);
        return QdrantGrpcCollections.Read(collection, answer.Result, m => InvalidResponse(what, target, m, null));
    }

    private async Task CreateCollectionGrpcAsync(Uri grpcUrl, string collection, IReadOnlyList<QdrantVectorParams> vectors,
        IReadOnlyList<QdrantSparseVectorParams> sparseVectors, CancellationToken cancellationToken)
    {
        var what = $"Creating Qdrant collection '{collection}' over gRPC";
        var target = new Uri(grpcUrl, "qdrant.Collections/Create").GetLeftPart(UriPartial.Path);
        var message = QdrantGrpcCollections.Create(collection, vectors, sparseVectors);
        var answer = await CallGrpcAsync(
            (headers, deadline, ct) => Grpc.Collections.CreateAsync(message, headers, deadline, ct),
            what, target, null, cancellationToken).ConfigureAwait(false);
        if (!answer.Result) throw InvalidResponse(what, target, "`result` is false", null);
    }
}

/// <summary>Qdrant's collection messages (from its collections.proto, as Qdrant.Client generates them) and ours.</summary>
internal static class QdrantGrpcCollections
{
    /// <summary>A <c>CollectionInfo</c> as the REST answer's <see cref="QdrantCollectionInfo"/>, spelled as REST spells it.</summary>
    public static QdrantCollectionInfo Read(string name, CollectionInfo? info, Func<string, Exception> invalid)
    {
        if (info is null) throw invalid("the answer has no `result`");
        var prms = info.Config?.Params ?? throw invalid("`result.config.params` is missing");
        var status = info.Status switch
        {
            CollectionStatus.Green => "green",
            CollectionStatus.Yellow => "yellow",
            CollectionStatus.Red => "red",
            CollectionStatus.Grey => "grey",
            var other => throw invalid($"`result.status` is {other}"),
        };
        var vectors = new List<QdrantVectorParams>();
        var unnamed = false;
        switch (prms.VectorsConfig?.ConfigCase)
        {
            case VectorsConfig.ConfigOneofCase.Params:
                unnamed = true;
                vectors.Add(ReadVector(VectorRecord.DefaultVectorName, prms.VectorsConfig.Params, invalid));
                break;
            case VectorsConfig.ConfigOneofCase.ParamsMap:
                // A protobuf map has no order; REST lists a collection's vectors in name order too.
                foreach (var (vectorName, p) in prms.VectorsConfig.ParamsMap.Map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    vectors.Add(ReadVector(vectorName, p, invalid));
                break;
        }
        var sparse = new List<QdrantSparseVectorParams>();
        if (prms.SparseVectorsConfig is { } sc)
        {
            foreach (var (sparseName, p) in sc.Map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var modifier = p.HasModifier ? p.Modifier switch { Modifier.Idf => "idf", Modifier.None => "none", var m => m.ToString().ToLowerInvariant() } : null;
                var datatype = p.Index is { HasDatatype: true } index ? DatatypeName(index.Datatype) : null;
                sparse.Add(new QdrantSparseVectorParams(sparseName, modifier, datatype));
            }
        }
        return new QdrantCollectionInfo(name, status, info.HasPointsCount ? info.PointsCount : null, unnamed, vectors, sparse);
    }

    private static QdrantVectorParams ReadVector(string name, VectorParams p, Func<string, Exception> invalid)
    {
        if (p.Size is 0 or > int.MaxValue) throw invalid($"vector '{name}' has size {p.Size}");
        // The enum's names are the names REST spells (collections.proto: Cosine, Euclid, Dot, Manhattan).
        var distanceName = p.Distance.ToString();
        var comparator = p.MultivectorConfig is { } mv ? mv.Comparator switch { MultiVectorComparator.MaxSim => "max_sim", var c => c.ToString().ToLowerInvariant() } : null;
        return new QdrantVectorParams(name, (int)p.Size, QdrantCollectionInfo.MetricOf(distanceName), distanceName, p.HasDatatype ? DatatypeName(p.Datatype) : null, comparator);
    }

    /// <summary>The datatype as REST spells it; <c>Default</c> is none given (float32).</summary>
    private static string? DatatypeName(Datatype datatype) => datatype == Datatype.Default ? null : datatype.ToString().ToLowerInvariant();

    /// <summary>The <c>CreateCollection</c> message of the same collection <see cref="QdrantClient.CreateCollectionBody"/> describes for REST.</summary>
    public static CreateCollection Create(string name, IReadOnlyList<QdrantVectorParams> vectors, IReadOnlyList<QdrantSparseVectorParams> sparseVectors)
    {
        var unnamed = QdrantClient.CheckSpaces(vectors, sparseVectors);
        var message = new CreateCollection { CollectionName = name };
        if (unnamed)
        {
            message.VectorsConfig = new VectorsConfig { Params = WriteVector(vectors[0]) };
        }
        else
        {
            var map = new VectorParamsMap();
            foreach (var v in vectors) map.Map[v.Name] = WriteVector(v);
            message.VectorsConfig = new VectorsConfig { ParamsMap = map };
        }
        if (sparseVectors.Count > 0)
        {
            var sparse = new SparseVectorConfig();
            foreach (var s in sparseVectors)
            {
                var p = new SparseVectorParams();
                if (s.Modifier is { } modifier)
                {
                    p.Modifier = modifier switch
                    {
                        "idf" => Modifier.Idf,
                        "none" => Modifier.None,
                        _ => throw new ArgumentException($"Sparse vector '{s.Name}' has modifier '{modifier}', which Qdrant's gRPC API does not name.", nameof(sparseVectors)),
                    };
                }
                sparse.Map[s.Name] = p;
            }
            message.SparseVectorsConfig = sparse;
        }
        return message;
    }

    private static VectorParams WriteVector(QdrantVectorParams v)
    {
        var p = new VectorParams
        {
            Size = (ulong)v.Size,
            Distance = Enum.TryParse<Distance>(QdrantClient.DistanceName(v), ignoreCase: false, out var d) && d != Distance.UnknownDistance ? d
                : throw new ArgumentException($"Vector '{v.Name}' has distance '{v.DistanceName}', which Qdrant's gRPC API does not name.", nameof(v)),
        };
        if (v.Datatype is { } datatype)
        {
            p.Datatype = Enum.TryParse<Datatype>(datatype, ignoreCase: true, out var dt) && dt != Datatype.Default ? dt
                : throw new ArgumentException($"Vector '{v.Name}' has datatype '{datatype}', which Qdrant's gRPC API does not name.", nameof(v));
        }
        if (v.IsMultivector)
        {
            p.MultivectorConfig = new MultiVectorConfig
            {
                Comparator = v.MultivectorComparator == "max_sim" ? MultiVectorComparator.MaxSim
                    : throw new ArgumentException($"Vector '{v.Name}' compares rows by '{v.MultivectorComparator}', which Qdrant's gRPC API does not name.", nameof(v)),
            };
        }
        return p;
    }
}
