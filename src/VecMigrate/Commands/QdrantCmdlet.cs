using System.Management.Automation;
using System.Security;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>The parameters every Qdrant cmdlet shares (-Url, -ApiKey) and the client made from them.</summary>
public abstract class QdrantCmdlet : VecMigrateCmdlet
{
    private RestTransport? _transport;

    /// <summary>Qdrant's REST url; taken from piped objects that have a Url (Get-QdrantCollection's output).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    public Uri Url { get; set; } = QdrantClient.DefaultUrl;

    [Parameter]
    [SecretTransformation]
    public SecureString? ApiKey { get; set; }

    /// <summary>
    /// A client for -Url with -ApiKey (or QDRANT_API_KEY), reading pages over gRPC at <paramref name="grpcUrl"/> when
    /// given; a url Qdrant cannot have ends the command.
    /// </summary>
    private protected QdrantClient OpenClient(Uri? grpcUrl = null)
    {
        var key = ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable);
        _transport ??= new RestTransport(logger: LoggerFactory.CreateLogger<QdrantClient>());
        try
        {
            return new QdrantClient(Url, key, _transport) { GrpcUrl = grpcUrl };
        }
        catch (ArgumentException e)
        {
            // Named as the user gave it (-Url, -GrpcUrl), not by the engine's parameter ("(Parameter 'baseUrl')").
            var (parameter, url) = e.ParamName == nameof(QdrantClient.GrpcUrl) ? ("GrpcUrl", grpcUrl) : ("Url", Url);
            var reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "QdrantUrlInvalid", $"-{parameter} {url?.OriginalString}: {reason}", url?.OriginalString, e));
            throw; // not reached
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _transport?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The parameters of the cmdlets that read a collection (Get-QdrantPoint, New-QdrantSource).</summary>
public abstract class QdrantReadCmdlet : QdrantCmdlet
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

    /// <summary>Payload fields to read; every field when left out.</summary>
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

    /// <summary>The read these parameters ask for (without a start position).</summary>
    private protected QdrantReadOptions ReadOptions() => Create(() => new QdrantReadOptions(Collection)
    {
        PageSize = PageSize,
        FilterJson = Filter is null ? null : PowerShellValues.ToPlain(Filter) as string ?? ObjectRecords.ToJson(PowerShellValues.ToPlain(Filter)),
        Payload = Select(WithPayload, NoPayload, nameof(WithPayload), nameof(NoPayload)),
        Vectors = Select(Vector, NoVector, nameof(Vector), nameof(NoVector)),
    });

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

/// <summary>The parameters of the cmdlets that write a collection (Write-QdrantPoint, New-QdrantTarget): one set, so the twins cannot drift.</summary>
public abstract class QdrantWriteCmdlet : QdrantCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QdrantCollectionCompleter))]
    public string Collection { get; set; } = "";

    /// <summary>The distance of a collection the write creates; the source's (or Cosine) when left out.</summary>
    [Parameter]
    [ValidateDistanceMetric]
    public DistanceMetric? Distance { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int BatchSize { get; set; } = QdrantSinkOptions.DefaultBatchSize;

    [Parameter]
    [ValidateRange(1024, int.MaxValue)]
    public int MaxRequestBytes { get; set; } = QdrantSinkOptions.DefaultMaxRequestBytes;

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

    /// <summary>The write these parameters ask for.</summary>
    private protected QdrantSinkOptions SinkOptions() => new(Collection)
    {
        Distance = Distance, BatchSize = BatchSize, MaxRequestBytes = MaxRequestBytes, CreateCollection = !NoCreate,
        OriginalIdField = OriginalIdField, NamespaceField = NamespaceField,
    };
}
