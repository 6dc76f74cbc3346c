using System.Buffers;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Qdrant;

/// <summary>What Qdrant answers to an update: the operation's number and whether it was applied or only queued.</summary>
/// <param name="OperationId">Qdrant's sequential operation number, where it reports one.</param>
/// <param name="Status">"completed" (applied: <c>wait=true</c>), "acknowledged" (in the write-ahead log) or "wait_timeout".</param>
public sealed record QdrantUpdateResult(ulong? OperationId, string Status);

public sealed partial class QdrantClient
{
    /// <summary>
    /// <c>PUT /collections/{name}</c>: creates a collection with the given dense (and multi-) vector spaces and sparse
    /// vector spaces. A single dense space named "" becomes Qdrant's unnamed vector (<c>"vectors": {size, distance}</c>);
    /// otherwise every dense space is named (<c>"vectors": {name: {size, distance}}</c>). Sparse spaces are always
    /// named and may sit beside an unnamed dense vector. A multivector space gets
    /// <c>multivector_config: {comparator: max_sim}</c>. Fails with <c>QdrantBadRequest</c> when the collection exists.
    /// </summary>
    public Task CreateCollectionAsync(string collection, IReadOnlyList<QdrantVectorParams> vectors,
        IReadOnlyList<QdrantSparseVectorParams>? sparseVectors = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentNullException.ThrowIfNull(vectors);
        sparseVectors ??= [];
        if (_grpcUrl is { } grpcUrl) return CreateCollectionGrpcAsync(grpcUrl, collection, vectors, sparseVectors, cancellationToken);
        var body = CreateCollectionBody(vectors, sparseVectors);
        return SendAsync<bool>(HttpMethod.Put, CollectionPath(collection), body, $"Creating Qdrant collection '{collection}'", null,
            (answer, invalid) =>
            {
                using var doc = ParseEnvelope(answer, invalid, out var result);
                if (result.ValueKind != JsonValueKind.True) throw invalid($"`result` is {result.ValueKind}, not true", null);
                return true;
            }, cancellationToken);
    }

    /// <summary>
    /// Refuses what no Qdrant collection can hold (over REST or gRPC alike); true when the one dense space is the
    /// collection's unnamed vector.
    /// </summary>
    internal static bool CheckSpaces(IReadOnlyList<QdrantVectorParams> vectors, IReadOnlyList<QdrantSparseVectorParams> sparseVectors)
    {
        var unnamed = vectors.Count == 1 && vectors[0].Name.Length == 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in vectors)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(vectors));
            if (v.Name.Length == 0 && !unnamed)
                throw new ArgumentException("Qdrant cannot hold an unnamed vector beside named dense vectors; name every vector.", nameof(vectors));
            if (v.Size < 1) throw new ArgumentException($"Vector '{v.Name}' needs a size of at least 1.", nameof(vectors));
            if (!names.Add(v.Name)) throw new ArgumentException($"Vector name '{v.Name}' appears twice.", nameof(vectors));
        }
        foreach (var s in sparseVectors)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(sparseVectors));
            if (s.Name.Length == 0) throw new ArgumentException("A Qdrant sparse vector needs a name.", nameof(sparseVectors));
            if (!names.Add(s.Name)) throw new ArgumentException($"Vector name '{s.Name}' is used for a dense and a sparse vector.", nameof(sparseVectors));
        }
        return unnamed;
    }

    internal static byte[] CreateCollectionBody(IReadOnlyList<QdrantVectorParams> vectors, IReadOnlyList<QdrantSparseVectorParams> sparseVectors)
    {
        var unnamed = CheckSpaces(vectors, sparseVectors);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("vectors"u8);
            if (unnamed)
            {
                WriteVectorParams(w, vectors[0]);
            }
            else
            {
                w.WriteStartObject(); // {} when there are only sparse vectors
                foreach (var v in vectors)
                {
                    w.WritePropertyName(v.Name);
                    WriteVectorParams(w, v);
                }
                w.WriteEndObject();
            }
            if (sparseVectors.Count > 0)
            {
                w.WriteStartObject("sparse_vectors"u8);
                foreach (var s in sparseVectors)
                {
                    w.WriteStartObject(s.Name);
                    if (s.Modifier is not null) w.WriteString("modifier"u8, s.Modifier);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteVectorParams(Utf8JsonWriter w, QdrantVectorParams v)
    {
        w.WriteStartObject();
        w.WriteNumber("size"u8, v.Size);
        w.WriteString("distance"u8, DistanceName(v));
        if (v.Datatype is not null) w.WriteString("datatype"u8, v.Datatype);
        if (v.IsMultivector)
        {
            w.WriteStartObject("multivector_config"u8);
            w.WriteString("comparator"u8, v.MultivectorComparator);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>The distance as Qdrant names it (REST's string; gRPC's enum has the same names).</summary>
    internal static string DistanceName(QdrantVectorParams v) => v.Distance switch
    {
        DistanceMetric.Cosine => "Cosine",
        DistanceMetric.Euclid => "Euclid",
        DistanceMetric.Dot => "Dot",
        DistanceMetric.Manhattan => "Manhattan",
        _ when !string.IsNullOrEmpty(v.DistanceName) => v.DistanceName, // a metric newer than this engine, by name
        _ => throw new ArgumentException($"Vector '{v.Name}' needs a distance (Cosine, Euclid, Dot or Manhattan)."),
    };

    /// <summary>
    /// <c>PUT /collections/{name}/points?wait=..</c> with <c>{"points": [{id, vector, payload}, ...]}</c>: inserts the
    /// points or replaces them whole (an upsert by id, so repeating it is harmless). Ids must already be Qdrant ids
    /// (unsigned integers or UUIDs; see <see cref="QdrantPointIds"/>); a record whose only vector is the unnamed one
    /// is sent in Qdrant's unnamed form, others as a map by name ("" for the unnamed vector beside sparse ones);
    /// payloads go as the bytes given and must be JSON objects. With <paramref name="wait"/> the answer comes once the
    /// points are applied. <see cref="QdrantSink"/> does the checking, id mapping and batching a migration needs.
    /// </summary>
    public async Task<QdrantUpdateResult> UpsertAsync(string collection, IReadOnlyList<VectorRecord> points, bool wait = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentNullException.ThrowIfNull(points);
        using var body = new QdrantUpsertBody();
        foreach (var p in points)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(points));
            var bare = p.Vectors.Count == 1 && p.Vectors.TryGetValue(VectorRecord.DefaultVectorName, out var only) && only is not SparseVector;
            body.AppendPoint(p.Id, p.Vectors, bare, p.Payload is null ? default : p.Payload.Utf8Json.Span);
        }
        return await UpsertAsync(collection, body, wait, $"Upserting {points.Count} points into Qdrant collection '{collection}'", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a body built elsewhere (the sink builds it while it checks the batch's size).</summary>
    internal Task<QdrantUpdateResult> UpsertAsync(string collection, QdrantUpsertBody body, bool wait, string what, CancellationToken cancellationToken) =>
        _grpcUrl is { } grpcUrl ? UpsertGrpcAsync(grpcUrl, collection, body.Finish(), wait, what + " over gRPC", cancellationToken) :
        SendAsync(HttpMethod.Put, CollectionPath(collection) + "/points?wait=" + (wait ? "true" : "false"), body.Finish(), what, collection,
            (answer, invalid) =>
            {
                using var doc = ParseEnvelope(answer, invalid, out var result);
                if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
                    throw invalid("`result.status` is missing or not a string", null);
                ulong? operation = null;
                if (result.TryGetProperty("operation_id", out var op) && op.ValueKind == JsonValueKind.Number && op.TryGetUInt64(out var n)) operation = n;
                return new QdrantUpdateResult(operation, status.GetString()!);
            }, cancellationToken);
}
