using System.Management.Automation;
using System.Security;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>The parameters every Pinecone cmdlet shares (-ApiKey, -Url) and the client made from them.</summary>
public abstract class PineconeCmdlet : VecMigrateCmdlet
{
    /// <summary>Pinecone's control plane.</summary>
    public static readonly Uri DefaultUrl = new("https://api.pinecone.io/");

    private RestTransport? _transport;

    [Parameter]
    [SecretTransformation]
    public SecureString? ApiKey { get; set; }

    /// <summary>The control plane: api.pinecone.io, or Pinecone Local's address (whose index hosts are then http too).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri Url { get; set; } = DefaultUrl;

    /// <summary>The key from -ApiKey (or PINECONE_API_KEY); without one the command ends.</summary>
    private protected ApiSecret RequireApiKey()
    {
        var key = ResolveApiKey(ApiKey, Secrets.PineconeApiKeyVariable);
        if (key is null)
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "PineconeApiKeyMissing",
                $"No Pinecone API key: give -ApiKey (text, SecureString or credential), or set {Secrets.PineconeApiKeyVariable}."));
        }
        return key!;
    }

    /// <summary>A client with -ApiKey (or PINECONE_API_KEY); without a key the command ends.</summary>
    private protected PineconeClient OpenClient()
    {
        var key = RequireApiKey();
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "PineconeUrlInvalid",
                "The Pinecone control plane url must be an absolute http or https url.", Url.OriginalString));
        }
        _transport ??= new RestTransport(logger: LoggerFactory.CreateLogger<PineconeClient>());
        // Index hosts come without a scheme: they speak what the control plane speaks (Pinecone Local: http).
        return new PineconeClient(key, _transport, new PineconeClientOptions { ControlPlaneUrl = Url, DataPlaneScheme = Url.Scheme });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _transport?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The parameters of the cmdlets that read an index (Get-PineconeVector, New-PineconeSource).</summary>
public abstract class PineconeReadCmdlet : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>Namespaces to read, in this order; '' is the default namespace. All when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? Namespace { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    /// <summary>Ids to read instead of listing them (the way to read a pod-based index).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter]
    [ValidateRange(1, PineconeClient.MaxListLimit)]
    public int PageSize { get; set; } = PineconeClient.MaxListLimit;

    /// <summary>The read these parameters ask for (without a start position).</summary>
    private protected PineconeReadOptions ReadOptions() => new() { Namespaces = Namespace, IdPrefix = Prefix, Ids = Id, PageSize = PageSize };
}

/// <summary>The parameters of the cmdlets that write an index (Write-PineconeVector, New-PineconeTarget): one set, so the twins cannot drift.</summary>
public abstract class PineconeWriteCmdlet : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [Parameter(ParameterSetName = ByHostSet)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>The namespace every record goes into ('' for the default one); each record's own when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string? Namespace { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? VectorName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SparseVectorName { get; set; }

    [Parameter]
    [ValidateRange(1, PineconeClient.MaxUpsertVectors)]
    public int BatchSize { get; set; } = PineconeClient.MaxUpsertVectors;

    /// <summary>The write these parameters ask for.</summary>
    private protected PineconeSinkOptions SinkOptions() => new()
    {
        IndexName = IndexName ?? IndexHost!, IndexHost = IndexHost, Namespace = Namespace, VectorName = VectorName,
        SparseVectorName = SparseVectorName, BatchSize = BatchSize,
    };
}
