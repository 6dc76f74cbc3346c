using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-QdrantPoint: streams a collection's points as records, in Qdrant's id order.</summary>
[Cmdlet(VerbsCommon.Get, "QdrantPoint")]
[OutputType(typeof(VectorRecord))]
public sealed class GetQdrantPointCommand : QdrantReadCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var options = ReadOptions().WithStartAfter(StartAfter);
        using var client = OpenClient(GrpcUrl);
        var source = new QdrantSource(client, LoggerFactory.CreateLogger<QdrantSource>());
        var progress = new ProgressMeter($"Reading Qdrant collection '{Collection}'");
        WriteAll(progress.AfterTotal(ct => source.EstimateCountAsync(options, ct), source.ReadAsync(options)), progress);
    }
}
