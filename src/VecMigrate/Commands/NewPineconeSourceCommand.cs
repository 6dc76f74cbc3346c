using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-PineconeSource: describes a Pinecone index for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PineconeSource", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeSourceSpec))]
public sealed class NewPineconeSourceCommand : PineconeReadCmdlet
{
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
