using System.Management.Automation;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Commands;

/// <summary>
/// What a digest normalizes or leaves out, one set of parameters for Measure-VectorDigest and Test-VectorMigration, so
/// that a check by hand and a check in one line take the same words.
/// </summary>
public abstract class DigestCmdlet : VecMigrateCmdlet
{
    /// <summary>Dense vectors normalized to unit length first, as a Qdrant Cosine collection stores them.</summary>
    [Parameter] public SwitchParameter NormalizeDense { get; set; }

    /// <summary>Records under the ids a Qdrant write gives them (UUIDv5 of string ids, namespaces folded in).</summary>
    [Parameter] public SwitchParameter QdrantId { get; set; }

    [Parameter]
    [ValidateNotNull]
    public string[]? IgnorePayloadField { get; set; }

    /// <summary>Vectors left out, by name ('' for the unnamed one).</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? IgnoreVector { get; set; }

    private protected HashSet<string> IgnoredPayloadFields() => new(IgnorePayloadField ?? [], StringComparer.Ordinal);

    private protected HashSet<string> IgnoredVectors() => new(IgnoreVector ?? [], StringComparer.Ordinal);

    /// <summary>The digest options these parameters ask for.</summary>
    private protected DigestOptions DigestParameters() => new()
    {
        NormalizeDense = NormalizeDense,
        QdrantIds = QdrantId,
        IgnorePayloadFields = IgnoredPayloadFields(),
        IgnoreVectors = IgnoredVectors(),
    };
}
