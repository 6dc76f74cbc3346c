using System.Management.Automation;
using VecMigrate.Engine.Milvus;

namespace VecMigrate.Commands;

/// <summary>New-MilvusTarget: describes a Milvus collection for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "MilvusTarget")]
[OutputType(typeof(MilvusTargetSpec))]
public sealed class NewMilvusTargetCommand : MilvusWriteCmdlet
{
    protected override void ProcessRecord()
    {
        var url = CheckedUrl();
        var token = ResolveToken();
        WriteObject(Create(() => new MilvusTargetSpec(url, token, Collection)
        {
            Database = Database, BatchSize = BatchSize, PartitionKey = PartitionKey, ShardsNum = ShardsNum == 0 ? null : ShardsNum,
            CreateCollection = !NoCreate, Rename = Renames(), NoDynamicField = NoDynamicField,
        }));
    }
}
