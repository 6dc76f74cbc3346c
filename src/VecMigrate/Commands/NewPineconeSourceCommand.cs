using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-PineconeSource: describes a Pinecone index for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PineconeSource", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeSourceSpec))]
public sealed class NewPineconeSourceCommand : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>Namespaces to read, in this order; '' is the default namespace. All when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? Namespace { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    protected override void ProcessRecord()
    {
        var key = ResolveApiKey(ApiKey, Secrets.PineconeApiKeyVariable);
        if (key is null)
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "PineconeApiKeyMissing",
                $"No Pinecone API key: give -ApiKey (text, SecureString or credential), or set {Secrets.PineconeApiKeyVariable}."));
        }
        WriteObject(Create(() => new PineconeSourceSpec(key, Url, IndexName ?? IndexHost!, IndexHost) { Namespace = Namespace, Prefix = Prefix }));
    }
}
