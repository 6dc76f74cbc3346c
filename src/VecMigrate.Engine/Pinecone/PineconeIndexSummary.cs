namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// An index as Get-PineconeIndex shows it: the control plane's description and, from the index's own
/// <c>describe_index_stats</c>, how many records each namespace holds.
/// </summary>
/// <param name="Name">The index name.</param>
/// <param name="Host">The data-plane host (give it as the index host to skip the control plane).</param>
/// <param name="Dimension">The dense dimension; null for sparse indexes.</param>
/// <param name="Metric"><c>cosine</c>, <c>euclidean</c> or <c>dotproduct</c>.</param>
/// <param name="VectorType"><c>dense</c> or <c>sparse</c>.</param>
/// <param name="Deployment">The <c>spec</c>: serverless, pod-based or BYOC.</param>
/// <param name="Ready">Whether the index is ready for use.</param>
/// <param name="State">The index state (<c>Ready</c>, <c>Initializing</c>, ...).</param>
/// <param name="TotalVectorCount">Records in all namespaces; null when the stats were not read.</param>
/// <param name="Namespaces">Records by namespace (<c>""</c> is the default one); null when the stats were not read.</param>
public sealed record PineconeIndexSummary(
    string Name, string Host, int? Dimension, string Metric, string VectorType, PineconeDeployment Deployment,
    bool Ready, string State, long? TotalVectorCount, IReadOnlyDictionary<string, long>? Namespaces)
{
    /// <summary>Combines a model with its stats (null when they could not be read, e.g. the index is not ready).</summary>
    public static PineconeIndexSummary From(PineconeIndexModel model, PineconeIndexStats? stats)
    {
        ArgumentNullException.ThrowIfNull(model);
        SortedDictionary<string, long>? namespaces = null;
        if (stats is not null)
        {
            namespaces = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (name, count) in stats.Namespaces)
            {
                // A server may list the default namespace as "" and as "__default__"; they are one namespace.
                var key = PineconeNamespace.Normalize(name);
                namespaces[key] = namespaces.GetValueOrDefault(key) + count;
            }
        }
        return new PineconeIndexSummary(model.Name, model.Host, model.Dimension, model.Metric, model.VectorType, model.Deployment,
            model.Ready, model.State, stats?.TotalVectorCount, namespaces);
    }

    /// <summary>"(default) 5, alpha 7": the namespaces and their counts on one line.</summary>
    public string NamespaceCounts => Namespaces is null
        ? ""
        : string.Join(", ", Namespaces.Select(n => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(n.Key.Length == 0 ? "(default)" : n.Key)} {n.Value:N0}")));
}
