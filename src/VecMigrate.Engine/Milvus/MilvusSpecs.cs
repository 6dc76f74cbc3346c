using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Milvus;

/// <summary>A Milvus collection to read, in primary-key order.</summary>
public sealed class MilvusSourceSpec : MigrationSourceSpec
{
    private readonly ApiSecret? _token;

    /// <param name="url">Milvus's url (http://host:19530) or a Zilliz Cloud endpoint.</param>
    /// <param name="token">user:password or an API key; null for none.</param>
    /// <param name="collection">The collection read.</param>
    public MilvusSourceSpec(Uri url, ApiSecret? token, string collection)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Url = url;
        _token = token;
        Collection = collection;
    }

    public override string System => "Milvus";

    public Uri Url { get; }

    public string Collection { get; }

    public string? Database { get; init; }

    /// <summary>A Milvus boolean expression, or null for every entity.</summary>
    public string? Filter { get; init; }

    public int PageSize { get; init; } = MilvusReadOptions.DefaultPageSize;

    public bool HasToken => _token is not null;

    public override string Description => $"Milvus {Url} collection '{Collection}'{(Filter is null ? "" : " (filtered)")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        MilvusSource.AsMigrationSource(new MilvusClient(Url, _token, transport, Database),
            new MilvusReadOptions(Collection) { Filter = Filter, PageSize = PageSize }, loggers.CreateLogger<MilvusSource>());
}

/// <summary>
/// A Milvus collection to write into (created from the records' schema unless told not to); upserts by key, so a
/// resumed copy may write a batch again without duplicating it. Its checkpoint is kept in a file.
/// </summary>
public sealed class MilvusTargetSpec : MigrationTargetSpec
{
    private readonly ApiSecret? _token;

    public MilvusTargetSpec(Uri url, ApiSecret? token, string collection)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        Url = url;
        _token = token;
        Collection = collection;
    }

    public override string System => "Milvus";

    public Uri Url { get; }

    public string Collection { get; }

    public string? Database { get; init; }

    public int BatchSize { get; init; } = MilvusSinkOptions.DefaultBatchSize;

    public bool CreateCollection { get; init; } = true;

    public string? PartitionKey { get; init; }

    public int? ShardsNum { get; init; }

    /// <inheritdoc cref="MilvusSinkOptions.Rename"/>
    public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <inheritdoc cref="MilvusSinkOptions.NoDynamicField"/>
    public bool NoDynamicField { get; init; }

    public bool HasToken => _token is not null;

    public override string Description => $"Milvus {Url} collection '{Collection}'";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new MilvusSink(new MilvusClient(Url, _token, transport, Database), new MilvusSinkOptions(Collection)
        {
            BatchSize = BatchSize, CreateCollection = CreateCollection, PartitionKey = PartitionKey, ShardsNum = ShardsNum,
            Rename = Rename, NoDynamicField = NoDynamicField,
        });

    /// <summary>The collection read back (Test-VectorMigration on a copy's summary).</summary>
    public override MigrationSourceSpec AsSource() => new MilvusSourceSpec(Url, _token, Collection) { Database = Database };

    /// <summary>Partitions kept in the checkpoint folder: the target upserts by id, so a batch written twice changes nothing.</summary>
    public override IPartitionLedger? OpenPartitionLedger(string? stateDirectory = null) => new FilePartitionLedger(stateDirectory);
}
