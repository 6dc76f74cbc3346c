using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-QdrantTarget: describes a Qdrant collection for Copy-VectorData to write into; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "QdrantTarget")]
[OutputType(typeof(QdrantTargetSpec))]
public sealed class NewQdrantTargetCommand : QdrantCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QdrantCollectionCompleter))]
    public string Collection { get; set; } = "";

    [Parameter]
    [ValidateSet(nameof(DistanceMetric.Cosine), nameof(DistanceMetric.Euclid), nameof(DistanceMetric.Dot), nameof(DistanceMetric.Manhattan))]
    public DistanceMetric? Distance { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int BatchSize { get; set; } = QdrantSinkOptions.DefaultBatchSize;

    [Parameter] public SwitchParameter NoCreate { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string OriginalIdField { get; set; } = QdrantSinkOptions.DefaultOriginalIdField;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string NamespaceField { get; set; } = QdrantSinkOptions.DefaultNamespaceField;

    /// <summary>Qdrant's gRPC url (port 6334): points are upserted over gRPC, the collection's schema still over REST at -Url.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? GrpcUrl { get; set; }

    protected override void ProcessRecord() =>
        WriteObject(Create(() => new QdrantTargetSpec(Url, ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable), Collection)
        {
            Distance = Distance, BatchSize = BatchSize, CreateCollection = !NoCreate.IsPresent,
            OriginalIdField = OriginalIdField, NamespaceField = NamespaceField, GrpcUrl = GrpcUrl,
        }));
}
