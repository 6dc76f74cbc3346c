using System.Management.Automation;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Write-MilvusEntity: upserts records into a Milvus collection, creating it from the first record's schema unless
/// -NoCreate. The sink runs on a background task fed through a bounded channel, as Write-PgVector's does.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "MilvusEntity", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MilvusWriteSummary))]
public sealed class WriteMilvusEntityCommand : MilvusWriteCmdlet
{
    private MilvusSink? _writer;
    private BackgroundWriter? _sink;
    private ProgressMeter? _progress;
    private bool _declined;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VectorRecord InputObject { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (_declined) return;
        if (_sink is null)
        {
            if (!ShouldProcess($"Milvus collection '{Collection}' at {Url}", "Upsert records"))
            {
                _declined = true;
                return;
            }
            var client = OpenClient();
            var options = new MilvusSinkOptions(Collection)
            {
                BatchSize = BatchSize, PartitionKey = PartitionKey, ShardsNum = ShardsNum == 0 ? null : ShardsNum, CreateCollection = !NoCreate,
            };
            var writer = _writer = Create(() => new MilvusSink(client, options));
            _sink = new BackgroundWriter(writer.WriteAsync, writer.CompleteAsync, writer, BackgroundWriter.DefaultCapacity, StopToken);
            _progress = new ProgressMeter($"Writing to Milvus collection '{Collection}'");
        }
        Feed(_sink, InputObject, _progress!);
    }

    protected override void EndProcessing()
    {
        if (_sink is null) return;
        Finish(_sink, _progress!);
        WriteObject(_writer!.Summary);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) (_sink ?? (IAsyncDisposable?)_writer)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
