using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-PineconeTarget: describes an existing Pinecone index for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PineconeTarget", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeTargetSpec))]
public sealed class NewPineconeTargetCommand : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [Parameter(ParameterSetName = ByHostSet)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>The namespace every record goes into ('' for the default one); each record's own when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string? Namespace { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? VectorName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SparseVectorName { get; set; }

    [Parameter]
    [ValidateRange(1, PineconeClient.MaxUpsertVectors)]
    public int BatchSize { get; set; } = PineconeClient.MaxUpsertVectors;

    protected override void ProcessRecord()
    {
        var key = ResolveApiKey(ApiKey, Secrets.PineconeApiKeyVariable);
        if (key is null)
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "PineconeApiKeyMissing",
                $"No Pinecone API key: give -ApiKey (text, SecureString or credential), or set {Secrets.PineconeApiKeyVariable}."));
        }
        WriteObject(Create(() => new PineconeTargetSpec(key, Url, IndexName ?? IndexHost!, IndexHost)
        {
            Namespace = Namespace, VectorName = VectorName, SparseVectorName = SparseVectorName, BatchSize = BatchSize,
        }));
    }
}
