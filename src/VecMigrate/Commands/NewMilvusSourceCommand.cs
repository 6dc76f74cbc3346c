using System.Management.Automation;
using VecMigrate.Engine.Milvus;

namespace VecMigrate.Commands;

/// <summary>New-MilvusSource: describes a Milvus collection for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "MilvusSource")]
[OutputType(typeof(MilvusSourceSpec))]
public sealed class NewMilvusSourceCommand : MilvusReadCmdlet
{
    protected override void ProcessRecord()
    {
        var url = CheckedUrl();
        var token = ResolveToken();
        WriteObject(Create(() => new MilvusSourceSpec(url, token, Collection) { Database = Database, Filter = Filter, PageSize = PageSize }));
    }
}
