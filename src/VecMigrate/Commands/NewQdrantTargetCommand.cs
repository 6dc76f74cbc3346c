using System.Management.Automation;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-QdrantTarget: describes a Qdrant collection for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "QdrantTarget")]
[OutputType(typeof(QdrantTargetSpec))]
public sealed class NewQdrantTargetCommand : QdrantWriteCmdlet
{
    protected override void ProcessRecord() =>
        WriteObject(Create(() => new QdrantTargetSpec(Url, ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable), SinkOptions()) { GrpcUrl = GrpcUrl }));
}
