namespace VecMigrate.Engine.Pinecone;

/// <summary>How an index is deployed, from the <c>spec</c> of the control plane's index model.</summary>
public enum PineconeDeployment : byte
{
    /// <summary>Not known: the index host was given directly and the control plane was not asked.</summary>
    Unknown = 0,
    Serverless = 1,
    /// <summary>Pod-based: <c>list</c> is not available, so ids cannot be enumerated.</summary>
    Pod = 2,
    /// <summary>Bring-your-own-cloud (serverless architecture in the customer's cloud).</summary>
    Byoc = 3,
}

/// <summary>An index as the control plane describes it (<c>GET /indexes/{name}</c>).</summary>
/// <param name="Name">The index name.</param>
/// <param name="Host">The data-plane host, without a scheme (e.g. <c>idx-abc123.svc.aped-4627-b74a.pinecone.io</c>).</param>
/// <param name="Dimension">The dense dimension; null for sparse indexes.</param>
/// <param name="Metric"><c>cosine</c>, <c>euclidean</c> or <c>dotproduct</c>.</param>
/// <param name="VectorType"><c>dense</c> or <c>sparse</c>.</param>
/// <param name="Deployment">Serverless, pod-based or BYOC.</param>
/// <param name="Ready">Whether the index is ready for use.</param>
/// <param name="State">The index state (<c>Ready</c>, <c>Initializing</c>, ...).</param>
public sealed record PineconeIndexModel(
    string Name, string Host, int? Dimension, string Metric, string VectorType,
    PineconeDeployment Deployment, bool Ready, string State);

/// <summary>What <c>POST /describe_index_stats</c> reports.</summary>
/// <param name="Namespaces">Record counts by namespace name, as the server spells the names (the default
/// namespace may come as <c>""</c> or <c>"__default__"</c>; see <see cref="PineconeNamespace"/>).</param>
/// <param name="Dimension">The dense dimension; null for sparse indexes.</param>
/// <param name="TotalVectorCount">Records in all namespaces.</param>
/// <param name="Metric">The metric, where the server reports it.</param>
/// <param name="VectorType">The vector type, where the server reports it.</param>
public sealed record PineconeIndexStats(
    IReadOnlyDictionary<string, long> Namespaces, int? Dimension, long TotalVectorCount, string? Metric, string? VectorType);

/// <summary>One page of <c>GET /vectors/list</c>.</summary>
/// <param name="Ids">The ids, in the server's order (bitwise "C" collation, i.e. by UTF-8 bytes).</param>
/// <param name="NextToken">The opaque <c>pagination.next</c> token; null on the last page.</param>
public sealed record PineconeIdPage(IReadOnlyList<string> Ids, string? NextToken);

/// <summary>
/// Namespace names. Records use <c>""</c> for the default namespace. The server may call it <c>""</c> (the
/// 2026-04 document's example of <c>describe_index_stats</c>) or <c>"__default__"</c> (the reserved name Pinecone
/// documents for addressing it, and which newer servers report in stats); both mean the same namespace.
/// </summary>
public static class PineconeNamespace
{
    /// <summary>The reserved name of the default namespace.</summary>
    public const string ReservedDefault = "__default__";

    /// <summary>True for <c>""</c> and <c>"__default__"</c>.</summary>
    public static bool IsDefault(string? name) =>
        string.IsNullOrEmpty(name) || string.Equals(name, ReservedDefault, StringComparison.Ordinal);

    /// <summary>The name records carry: <c>""</c> for the default namespace, the name otherwise.</summary>
    public static string Normalize(string? name) => IsDefault(name) ? "" : name!;
}
