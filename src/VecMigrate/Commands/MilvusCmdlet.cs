using Microsoft.Extensions.Logging;
using System.Management.Automation;
using System.Security;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Milvus;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>The parameters every Milvus cmdlet shares (-Url, -ApiKey, -Credential, -Database) and the client made from them.</summary>
public abstract class MilvusCmdlet : VecMigrateCmdlet
{
    /// <summary>The token's environment variable (user:password or an API key).</summary>
    public const string TokenVariable = "MILVUS_TOKEN";

    public static readonly Uri DefaultUrl = new("http://localhost:19530/");

    private RestTransport? _transport;

    /// <summary>Milvus's url (http://host:19530) or a Zilliz Cloud endpoint.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri Url { get; set; } = DefaultUrl;

    /// <summary>An API key (Zilliz Cloud) or a user:password token.</summary>
    [Parameter]
    [SecretTransformation]
    public SecureString? ApiKey { get; set; }

    /// <summary>A Milvus user and password (sent as the token user:password).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>The token from -Credential, -ApiKey or MILVUS_TOKEN; null for a Milvus without authentication.</summary>
    private protected ApiSecret? ResolveToken()
    {
        if (Credential is { } c && c != PSCredential.Empty)
            return Secrets.FromText(c.UserName + ":" + c.GetNetworkCredential().Password, Redactor);
        return ResolveApiKey(ApiKey, TokenVariable);
    }

    private protected Uri CheckedUrl()
    {
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "MilvusUrlInvalid",
                "The Milvus url must be an absolute http or https url (http://host:19530).", Url.OriginalString));
        }
        return Url;
    }

    private protected MilvusClient OpenClient()
    {
        _transport ??= new RestTransport(logger: LoggerFactory.CreateLogger<MilvusClient>());
        var url = CheckedUrl();
        var token = ResolveToken();
        return Create(() => new MilvusClient(url, token, _transport, Database));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _transport?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The parameters of the cmdlets that read a collection (Get-MilvusEntity, New-MilvusSource).</summary>
public abstract class MilvusReadCmdlet : MilvusCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MilvusCollectionCompleter))]
    public string Collection { get; set; } = "";

    /// <summary>A Milvus boolean expression (tenant == "acme"); every entity when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Filter { get; set; }

    [Parameter]
    [ValidateRange(1, MilvusClient.MaxQueryWindow)]
    public int PageSize { get; set; } = MilvusReadOptions.DefaultPageSize;
}

/// <summary>The parameters of the cmdlets that write a collection (Write-MilvusEntity, New-MilvusTarget).</summary>
public abstract class MilvusWriteCmdlet : MilvusCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MilvusCollectionCompleter))]
    public string Collection { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 10_000)]
    public int BatchSize { get; set; } = MilvusSinkOptions.DefaultBatchSize;

    /// <summary>A created collection's partition key: a typed Int64 or VarChar field of the source.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PartitionKey { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ShardsNum { get; set; }

    /// <summary>The collection must exist: it is not created.</summary>
    [Parameter]
    public SwitchParameter NoCreate { get; set; }

    /// <summary>Source field (payload key or typed column) → Milvus field name; types do not change.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Collections.IDictionary? Rename { get; set; }

    /// <summary>A created collection gets no dynamic field: payload keys without a field of their own are refused by record.</summary>
    [Parameter]
    public SwitchParameter NoDynamicField { get; set; }

    /// <summary>-Rename as the engine takes it.</summary>
    private protected IReadOnlyDictionary<string, string> Renames() =>
        PowerShellValues.StringPairs(Rename).ToDictionary(StringComparer.Ordinal);
}

/// <summary>Completes -Collection and -Name with the collections of the -Url typed so far (MILVUS_TOKEN or -ApiKey).</summary>
public sealed class MilvusCollectionCompleter : NameCompleter
{
    protected override async Task<IEnumerable<string>> GetNamesAsync(System.Collections.IDictionary fakeBoundParameters, CancellationToken cancellationToken)
    {
        var url = GetBoundString(fakeBoundParameters, "Url") is { } text ? new Uri(text) : MilvusCmdlet.DefaultUrl;
        // One attempt: a tab press should not wait through retries.
        using var transport = new RestTransport(RetryPolicy.None);
        var client = new MilvusClient(url, GetBoundApiKey(fakeBoundParameters, "ApiKey", MilvusCmdlet.TokenVariable), transport, GetBoundString(fakeBoundParameters, "Database"));
        return await client.ListCollectionsAsync(cancellationToken).ConfigureAwait(false);
    }
}
