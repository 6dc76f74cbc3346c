using System.Management.Automation;
using VecMigrate.Engine.Pinecone;

namespace VecMigrate.Commands;

/// <summary>New-PineconeSource: describes a Pinecone index for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PineconeSource", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeSourceSpec))]
public sealed class NewPineconeSourceCommand : PineconeReadCmdlet
{
    protected override void ProcessRecord() =>
        WriteObject(Create(() => new PineconeSourceSpec(RequireApiKey(), Url, IndexName ?? IndexHost!, IndexHost, ReadOptions())));
}
