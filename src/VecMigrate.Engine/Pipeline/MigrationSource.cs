using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// What a <see cref="Migration"/> reads: a description for checkpoints to match, and a read that can start after
/// any record's <see cref="VectorRecord.Position"/> (null: from the beginning).
/// </summary>
public sealed class MigrationSource
{
    /// <param name="description">
    /// What is read, precisely enough that a checkpoint taken from one read is refused for another: system,
    /// endpoint, collection, and whatever narrows the read (filter, namespaces). Never a secret.
    /// </param>
    /// <param name="read">Reads the records after a position (null: all of them), in the source's own order.</param>
    public MigrationSource(string description, Func<string?, IAsyncEnumerable<VectorRecord>> read)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(read);
        Description = description;
        Read = read;
    }

    public string Description { get; }

    /// <summary>Reads the records after a position; null reads from the beginning.</summary>
    public Func<string?, IAsyncEnumerable<VectorRecord>> Read { get; }

    /// <summary>How many records a whole read yields, as the source estimates it (for progress only); null when it cannot tell.</summary>
    public Func<CancellationToken, Task<long?>>? EstimateCount { get; init; }

    /// <summary>Calls <see cref="EstimateCount"/>; null where the source has none.</summary>
    public Task<long?> EstimateCountAsync(CancellationToken cancellationToken = default) =>
        EstimateCount?.Invoke(cancellationToken) ?? Task.FromResult<long?>(null);

    public override string ToString() => Description;

    /// <summary>A Qdrant collection, scrolled in id order; <see cref="QdrantReadOptions.StartAfter"/> is set by the runner.</summary>
    public static MigrationSource Qdrant(QdrantClient client, QdrantReadOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var d = new StringBuilder($"Qdrant {client.Endpoint} collection '{options.Collection}'");
        if (options.FilterJson is { } filter) d.Append(" filter #").Append(Digest(filter));
        if (options.Vectors != QdrantSelection.All) d.Append(" vectors ").Append(options.Vectors);
        if (options.Payload != QdrantSelection.All) d.Append(" payload ").Append(options.Payload);
        var source = new QdrantSource(client, logger);
        return new MigrationSource(d.ToString(), after => source.ReadAsync(options.WithStartAfter(after)))
        {
            EstimateCount = ct => source.EstimateCountAsync(options.WithStartAfter(null), ct),
        };
    }

    /// <summary>A Pinecone index, namespace by namespace in list order.</summary>
    public static MigrationSource Pinecone(PineconeSource source, PineconeReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new PineconeReadOptions();
        var d = new StringBuilder($"Pinecone index '{source.IndexName}'");
        if (options.Namespaces is { } ns) d.Append(" namespaces ").Append(string.Join(",", ns.Select(n => $"'{PineconeNamespace.Normalize(n)}'")));
        if (!string.IsNullOrEmpty(options.IdPrefix)) d.Append(" prefix '").Append(options.IdPrefix).Append('\'');
        if (options.Ids is { } ids) d.Append(" ids #").Append(Digest(string.Join("\n", ids)));
        return new MigrationSource(d.ToString(), after => source.ReadAsync(options.WithStartAfter(after)))
        {
            EstimateCount = ct => source.EstimateCountAsync(options.WithStartAfter(null), ct),
        };
    }

    /// <summary>A Postgres table, in key order. The description names host, port and database, never user or password.</summary>
    public static MigrationSource PgVector(PgReadOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var d = new StringBuilder($"Postgres {Server(options.ConnectionString)} table {options.Schema}.{options.Table}");
        if (options.KeyColumn is { } key) d.Append(" key ").Append(key);
        if (options.VectorColumns is { } vectors) d.Append(" vectors ").Append(string.Join(",", vectors));
        if (options.Columns is { } columns) d.Append(" columns ").Append(string.Join(",", columns));
        if (!string.IsNullOrWhiteSpace(options.Where)) d.Append(" where #").Append(Digest(options.Where));
        var server = Server(options.ConnectionString);
        return new MigrationSource(d.ToString(), after => LossAsUnreachable(new PgVectorSource(options.WithStartAfter(after), logger).ReadAsync(), server))
        {
            EstimateCount = ct => new PgVectorSource(options.WithStartAfter(null), logger).EstimateCountAsync(ct),
        };
    }

    /// <summary>
    /// A connection lost while reading becomes <c>PgUnreachable</c> (kind Unreachable), which the runner answers by
    /// reading again after the last record it handed on.
    /// </summary>
    private static async IAsyncEnumerable<VectorRecord> LossAsUnreachable(IAsyncEnumerable<VectorRecord> records, string server,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var e = records.GetAsyncEnumerator(cancellationToken);
        await using (e.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await e.MoveNextAsync().ConfigureAwait(false)) yield break;
                }
                catch (Exception ex) when (ex is not VecMigrateException && PgConnections.IsConnectionLoss(ex))
                {
                    throw new VecMigrateException(FailureKind.Unreachable, "PgUnreachable",
                        $"Lost the connection to Postgres at {server} while reading: {(ex is PostgresException pg ? pg.MessageText : ex.Message)}", server, ex);
                }
                yield return e.Current;
            }
        }
    }

    /// <summary>
    /// host:port/database: the user is left out so that rotating credentials does not orphan a checkpoint.
    /// </summary>
    private static string Server(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            var host = b.Host ?? Environment.GetEnvironmentVariable("PGHOST") ?? "localhost";
            var port = b.Port != NpgsqlConnection.DefaultPort ? b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : Environment.GetEnvironmentVariable("PGPORT") ?? "5432";
            var db = b.Database ?? Environment.GetEnvironmentVariable("PGDATABASE") ?? b.Username ?? Environment.GetEnvironmentVariable("PGUSER");
            return $"{host}:{port}/{db}";
        }
        catch (ArgumentException)
        {
            return "(unparseable connection string)";
        }
    }

    /// <summary>A short digest that tells two filters apart without putting them (possibly long, possibly sensitive) in the checkpoint.</summary>
    private static string Digest(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 6).ToLowerInvariant();
}
