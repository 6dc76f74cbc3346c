using System.Management.Automation;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-QdrantSource: describes a Qdrant collection for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "QdrantSource")]
[OutputType(typeof(QdrantSourceSpec))]
public sealed class NewQdrantSourceCommand : QdrantReadCmdlet
{
    protected override void ProcessRecord() =>
        WriteObject(Create(() => new QdrantSourceSpec(Url, ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable), ReadOptions()) { GrpcUrl = GrpcUrl }));
}
