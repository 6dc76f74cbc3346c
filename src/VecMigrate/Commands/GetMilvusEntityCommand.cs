using Microsoft.Extensions.Logging;
using System.Management.Automation;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-MilvusEntity: streams a collection's entities as records, every partition, in primary-key order.</summary>
[Cmdlet(VerbsCommon.Get, "MilvusEntity")]
[OutputType(typeof(VectorRecord))]
public sealed class GetMilvusEntityCommand : MilvusReadCmdlet
{
    /// <summary>A record's Position (its key): the read starts after it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var source = new MilvusSource(OpenClient(), LoggerFactory.CreateLogger<MilvusSource>());
        WriteAll(source.ReadAsync(new MilvusReadOptions(Collection) { Filter = Filter, PageSize = PageSize, StartAfter = StartAfter }),
            new ProgressMeter($"Reading Milvus collection '{Collection}'"));
    }
}
