using System.Management.Automation;
using System.Security;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
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
            ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "QdrantUrlInvalid", e.Message, (e.ParamName == nameof(QdrantClient.GrpcUrl) ? grpcUrl : Url)?.OriginalString, e));
            throw; // not reached
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _transport?.Dispose();
        base.Dispose(disposing);
    }
}
