using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>A Postgres table to read, in key order.</summary>
public sealed class PgVectorSourceSpec : MigrationSourceSpec
{
    private readonly PgConnectionSettings _connection;

    /// <param name="connection">Where to connect (the password stays in it).</param>
    /// <param name="options">What to read: the same options Get-PgVector reads with (its connection string and start position are not used).</param>
    public PgVectorSourceSpec(PgConnectionSettings connection, PgReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Schema);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Table);
        _connection = connection;
        Options = options.WithConnectionString("");
    }

    public override string System => "Postgres";

    /// <summary>host:port/database as user (no password).</summary>
    public string Server => _connection.Description;

    public string Schema => Options.Schema;

    public string Table => Options.Table;

    /// <summary>What is read (no connection string: it is never shown).</summary>
    public PgReadOptions Options { get; }

    public override string Description => $"Postgres {Server} table {Schema}.{Table}{(Options.Where is null ? "" : " (where ...)")}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) =>
        PgVectorSource.AsMigrationSource(Options.WithConnectionString(_connection.RevealConnectionString()), loggers.CreateLogger<PgVectorSource>());
}

/// <summary>A Postgres table to write into with binary COPY; it keeps the checkpoint in the same database.</summary>
public sealed class PgVectorTargetSpec : MigrationTargetSpec
{
    private readonly PgConnectionSettings _connection;

    /// <param name="connection">Where to connect (the password stays in it).</param>
    /// <param name="options">How to write: the same options Write-PgVector writes with (its connection string is not used).</param>
    public PgVectorTargetSpec(PgConnectionSettings connection, PgWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connection = connection;
        Options = options.WithConnectionString("");
    }

    public override string System => "Postgres";

    public string Server => _connection.Description;

    public string Schema => Options.Schema;

    public string Table => Options.Table;

    /// <summary>How the copy writes (no connection string: it is never shown).</summary>
    public PgWriteOptions Options { get; }

    public override bool Destructive => Options.Mode == PgWriteMode.Replace;

    public override string Description => $"Postgres {Server} table {Schema}.{Table} ({Options.Mode})";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new PgVectorWriter(Options.WithConnectionString(_connection.RevealConnectionString()), loggers.CreateLogger<PgVectorWriter>());

    public override Task FinishAsync(IRecordSink sink, CancellationToken cancellationToken) =>
        ((PgVectorWriter)sink).CreateIndexesAsync(cancellationToken);

    /// <summary>The table, read back in key order through the same connection.</summary>
    public override MigrationSourceSpec AsSource() => new PgVectorSourceSpec(_connection, new PgReadOptions { Schema = Options.Schema, Table = Options.Table });

    /// <summary>The split and the leases live in the target database, next to the checkpoints; each batch checks its lease.</summary>
    public override IPartitionLedger? OpenPartitionLedger(string? stateDirectory = null) => new PgPartitionLedger(_connection.RevealConnectionString(), Options.Schema);

    public override string? CannotWriteInParallelBecause => Options.Mode == PgWriteMode.Replace
        ? "Replace empties the table in its first batch, which would throw away what other lanes wrote; empty the table first (or let a one-lane copy do it) and copy with -Mode Append or Upsert"
        : null;
}
