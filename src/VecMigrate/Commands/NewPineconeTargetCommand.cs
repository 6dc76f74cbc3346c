using System.Management.Automation;
using VecMigrate.Engine.Pinecone;

namespace VecMigrate.Commands;

/// <summary>New-PineconeTarget: describes an existing Pinecone index for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "PineconeTarget", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(PineconeTargetSpec))]
public sealed class NewPineconeTargetCommand : PineconeWriteCmdlet
{
    /// <inheritdoc cref="PineconeWriteCmdlet.ByNameSet"/>
    public new const string ByNameSet = PineconeWriteCmdlet.ByNameSet;

    /// <inheritdoc cref="PineconeWriteCmdlet.ByHostSet"/>
    public new const string ByHostSet = PineconeWriteCmdlet.ByHostSet;

    protected override void ProcessRecord() => WriteObject(Create(() => new PineconeTargetSpec(RequireApiKey(), Url, SinkOptions())));
}
