using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>New-QdrantSource: describes a Qdrant collection for Copy-VectorData to read; connects to nothing.</summary>
[Cmdlet(VerbsCommon.New, "QdrantSource")]
[OutputType(typeof(QdrantSourceSpec))]
public sealed class NewQdrantSourceCommand : QdrantCmdlet
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

    /// <summary>Qdrant's gRPC url (port 6334): pages are read over gRPC, everything else over REST at -Url.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? GrpcUrl { get; set; }

    protected override void ProcessRecord()
    {
        var filter = Filter is null ? null : PowerShellValues.ToPlain(Filter) as string ?? ObjectRecords.ToJson(PowerShellValues.ToPlain(Filter));
        WriteObject(Create(() => new QdrantSourceSpec(Url, ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable), Collection)
        {
            Filter = filter,
            PageSize = PageSize,
            GrpcUrl = GrpcUrl,
        }));
    }
}
