using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-QdrantPoint: streams a collection's points as records, in Qdrant's id order.</summary>
[Cmdlet(VerbsCommon.Get, "QdrantPoint")]
[OutputType(typeof(VectorRecord))]
public sealed class GetQdrantPointCommand : QdrantCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QdrantCollectionCompleter))]
    public string Collection { get; set; } = "";

    /// <summary>A Qdrant filter: JSON text, or a hashtable (or object) that is sent as JSON.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Filter { get; set; }

    [Parameter]
    [ValidateRange(1, QdrantScrollRequest.MaxLimit)]
    public int PageSize { get; set; } = QdrantReadOptions.DefaultPageSize;

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

    /// <summary>Qdrant's gRPC url (port 6334): pages are read over gRPC, everything else over REST at -Url.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? GrpcUrl { get; set; }

    protected override void ProcessRecord()
    {
        var options = new QdrantReadOptions(Collection)
        {
            PageSize = PageSize,
            FilterJson = Filter is null ? null : PowerShellValues.ToPlain(Filter) as string ?? ObjectRecords.ToJson(PowerShellValues.ToPlain(Filter)),
            Payload = Select(WithPayload, NoPayload, nameof(WithPayload), nameof(NoPayload)),
            Vectors = Select(Vector, NoVector, nameof(Vector), nameof(NoVector)),
            StartAfter = StartAfter,
        };
        using var client = OpenClient(GrpcUrl);
        var source = new QdrantSource(client, LoggerFactory.CreateLogger<QdrantSource>());
        WriteAll(source.ReadAsync(options), new ProgressMeter($"Reading Qdrant collection '{Collection}'"));
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
