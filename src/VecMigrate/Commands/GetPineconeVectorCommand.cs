using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-PineconeVector: streams an index's records, namespace by namespace, in id order.</summary>
[Cmdlet(VerbsCommon.Get, "PineconeVector", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(VectorRecord))]
public sealed class GetPineconeVectorCommand : PineconeReadCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var name = IndexName ?? IndexHost!;
        var source = new PineconeSource(OpenClient(), new PineconeSourceOptions { IndexName = name, IndexHost = IndexHost });
        var options = ReadOptions().WithStartAfter(StartAfter);
        var progress = new ProgressMeter($"Reading Pinecone index '{name}'");
        WriteAll(progress.AfterTotal(ct => source.EstimateCountAsync(options, ct), source.ReadAsync(options)), progress);
    }
}
