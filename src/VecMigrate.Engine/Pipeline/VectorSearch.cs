using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// One nearest-neighbour query put to a side of a migration (<see cref="MigrationSource.Search"/>).
/// </summary>
/// <param name="Vector">The vector space searched ("" for a source's single unnamed vector).</param>
/// <param name="Values">The query vector, as the source holds it.</param>
/// <param name="TopK">How many neighbours to return.</param>
/// <param name="Metric">
/// The metric to rank by where the side can choose (Postgres: the operator); systems whose collections have one
/// metric (Qdrant, Pinecone, Milvus) use theirs and say so in <see cref="SearchAnswer.Metric"/>.
/// </param>
/// <param name="Namespace">Search only this namespace (Pinecone namespaces, and where a copy kept them: a column or payload field); null: everything.</param>
/// <param name="Exact">Exact (brute-force) search where the side can be asked for it; false lets it use its index.</param>
public sealed record SearchQuery(string Vector, float[] Values, int TopK, DistanceMetric Metric, string? Namespace, bool Exact);

/// <summary>
/// One neighbour: the record as the side's own reads name it (id and namespace, no vectors, no payload), and its
/// score in the common form of <see cref="SearchAnswer.Metric"/> (<see cref="VectorSearch"/>).
/// </summary>
public sealed record SearchHit(VectorRecord Record, double Score);

/// <summary>A side's answer: the metric it ranked by, the neighbours best first, and how it searched.</summary>
/// <param name="Metric">The metric the side ranked by (its collection's, or the one asked for).</param>
/// <param name="Hits">The neighbours, nearest first, scores in the common form.</param>
/// <param name="Method">In words: "pgvector exact, &lt;=&gt;", "Qdrant query API, exact", ...</param>
public sealed record SearchAnswer(DistanceMetric Metric, IReadOnlyList<SearchHit> Hits, string Method);

/// <summary>
/// The one form scores are compared in, whatever each system answers: Cosine → cosine similarity (higher is
/// nearer), Dot → the inner product (higher is nearer), Euclid → the L2 distance, not squared (lower is nearer),
/// Manhattan → the L1 distance (lower is nearer). Each system converts its own answer (pgvector's cosine distance is
/// 1 − similarity and its inner-product operator is negated; Milvus and Pinecone give squared L2).
/// </summary>
public static class VectorSearch
{
    /// <summary>Whether a higher score is nearer under <paramref name="metric"/>.</summary>
    public static bool HigherIsNearer(DistanceMetric metric) => metric is DistanceMetric.Cosine or DistanceMetric.Dot or DistanceMetric.Unknown;

    /// <summary>Top-level name of the metric's score form, for messages and the result.</summary>
    public static string ScoreForm(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Dot => "inner product",
        DistanceMetric.Euclid => "L2 distance",
        DistanceMetric.Manhattan => "L1 distance",
        _ => "cosine similarity",
    };
}
