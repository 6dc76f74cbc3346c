using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
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
    public string[]? WithPayload { get; set; }

    [Parameter] public SwitchParameter NoPayload { get; set; }

    /// <summary>Vector names to read; '' is the unnamed vector.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? Vector { get; set; }

    [Parameter] public SwitchParameter NoVector { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var options = new QdrantReadOptions(Collection)
        {
            PageSize = PageSize,
            FilterJson = FilterJson(),
            Payload = Select(WithPayload, NoPayload, nameof(WithPayload), nameof(NoPayload)),
            Vectors = Select(Vector, NoVector, nameof(Vector), nameof(NoVector)),
            StartAfter = StartAfter,
        };
        using var client = OpenClient(GrpcUrl);
        var source = new QdrantSource(client, LoggerFactory.CreateLogger<QdrantSource>());
        var progress = new ProgressMeter($"Reading Qdrant collection '{Collection}'");
        WriteAll(progress.AfterTotal(ct => source.EstimateCountAsync(options, ct), source.ReadAsync(options)), progress);
    }

    private QdrantSelection Select(string[]? names, bool none, string namesParameter, string noneParameter)
    {
        if (names is not null && none)
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "QdrantSelectionConflict",
                $"-{namesParameter} and -{noneParameter} cannot be used together."));
        }
        return none ? QdrantSelection.None : names is null ? QdrantSelection.All : QdrantSelection.Only(names);
    }
}
