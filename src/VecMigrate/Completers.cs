using System.Collections;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Hosting;

namespace VecMigrate;

/// <summary>Completes -Collection and -Name with the collections of the -Url typed so far (QDRANT_API_KEY or -ApiKey).</summary>
public sealed class QdrantCollectionCompleter : NameCompleter
{
    protected override async Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken)
    {
        var url = GetBoundString(fakeBoundParameters, "Url") is { } text ? new Uri(text) : QdrantClient.DefaultUrl;
        // One attempt: a tab press should not wait through retries.
        using var transport = new RestTransport(RetryPolicy.None);
        using var client = new QdrantClient(url, GetBoundApiKey(fakeBoundParameters, "ApiKey", Secrets.QdrantApiKeyVariable), transport);
        return await client.ListCollectionsAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Completes -IndexName and -Name with the indexes the API key's project has.</summary>
public sealed class PineconeIndexCompleter : NameCompleter
{
    protected override async Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken)
    {
        var key = GetBoundApiKey(fakeBoundParameters, "ApiKey", Secrets.PineconeApiKeyVariable);
        if (key is null) return [];
        var url = GetBoundString(fakeBoundParameters, "Url") is { } text ? new Uri(text) : Commands.PineconeCmdlet.DefaultUrl;
        using var transport = new RestTransport(RetryPolicy.None);
        var client = new PineconeClient(key, transport, new PineconeClientOptions { ControlPlaneUrl = url, DataPlaneScheme = url.Scheme });
        return (await client.ListIndexesAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Name);
    }
}

/// <summary>Completes -Table with the tables of -Schema in the database of -ConnectionString (or the PG* variables).</summary>
public sealed class PgTableCompleter : NameCompleter
{
    protected override Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken)
    {
        var settings = PgConnectionFactory.Create(GetBoundString(fakeBoundParameters, "ConnectionString"));
        return ListAsync(settings, GetBoundString(fakeBoundParameters, "Schema") ?? "public", cancellationToken);

        static async Task<IEnumerable<string>> ListAsync(PgConnectionSettings settings, string schema, CancellationToken ct) =>
            await PgCatalog.ListTablesAsync(settings.RevealConnectionString(), schema, ct).ConfigureAwait(false);
    }
}

/// <summary>Completes checkpoint names from the vecmigrate_checkpoint table of -Schema.</summary>
public sealed class PgCheckpointCompleter : NameCompleter
{
    protected override async Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken)
    {
        var settings = PgConnectionFactory.Create(GetBoundString(fakeBoundParameters, "ConnectionString"));
        var schema = GetBoundString(fakeBoundParameters, "Schema") ?? "public";
        var found = await PgCheckpointStore.ListAsync(settings.RevealConnectionString(), schema, null, cancellationToken).ConfigureAwait(false);
        return found.Select(c => c.Name);
    }
}
