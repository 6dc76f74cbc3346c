using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>A Postgres table to read, in key order.</summary>
public sealed class PgVectorSourceSpec : MigrationSourceSpec
{
    private readonly PgConnectionSettings _connection;

    public PgVectorSourceSpec(PgConnectionSettings connection, string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        _connection = connection;
        Schema = schema;
        Table = table;
    }

    public override string System => "Postgres";

    /// <summary>host:port/database as user (no password).</summary>
    public string Server => _connection.Description;

    public string Schema { get; }

    public string Table { get; }

    /// <summary>The key column; the primary key when null.</summary>
    public string? KeyColumn { get; init; }

    /// <summary>An SQL condition on the rows.</summary>
    public string? Where { get; init; }

    public override string Description => $"Postgres {Server} table {Schema}.{Table}{(Where is null ? "" : " (where ...)")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        PgVectorSource.AsMigrationSource(new PgReadOptions
        {
            ConnectionString = _connection.RevealConnectionString(), Schema = Schema, Table = Table, KeyColumn = KeyColumn, Where = Where,
        }, loggers.CreateLogger<PgVectorSource>());
}

/// <summary>A Postgres table to write into with binary COPY; it keeps the checkpoint in the same database.</summary>
public sealed class PgVectorTargetSpec : MigrationTargetSpec
{
    private readonly PgConnectionSettings _connection;

    public PgVectorTargetSpec(PgConnectionSettings connection, string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        _connection = connection;
        Schema = schema;
        Table = table;
    }

    public override string System => "Postgres";

    public string Server => _connection.Description;

    public string Schema { get; }

    public string Table { get; }

    public PgWriteMode Mode { get; init; } = PgWriteMode.Append;

    public PgVectorType VectorType { get; init; } = PgVectorType.Vector;

    public PgIdType? IdType { get; init; }

    public int BatchSize { get; init; } = PgWriteOptions.DefaultBatchSize;

    public PgIndexKind Index { get; init; } = PgIndexKind.None;

    public override bool Destructive => Mode == PgWriteMode.Replace;

    public override string Description => $"Postgres {Server} table {Schema}.{Table} ({Mode})";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new PgVectorWriter(new PgWriteOptions
        {
            ConnectionString = _connection.RevealConnectionString(), Schema = Schema, Table = Table, Mode = Mode, VectorType = VectorType,
            IdType = IdType, BatchSize = BatchSize, Index = Index,
        }, loggers.CreateLogger<PgVectorWriter>());

    public override Task FinishAsync(IRecordSink sink, CancellationToken cancellationToken) =>
        Index == PgIndexKind.None ? Task.CompletedTask : ((PgVectorWriter)sink).CreateIndexesAsync(cancellationToken);
}
