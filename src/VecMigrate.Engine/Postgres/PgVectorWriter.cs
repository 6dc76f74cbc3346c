using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// Writes records into a Postgres table with binary COPY. The table is made from the first record's
/// source schema when missing, or checked against it when present, before any row is written. Rows
/// stream straight into the COPY of the open batch; every <see cref="PgWriteOptions.BatchSize"/>
/// records the COPY completes and its transaction commits, so a failure leaves whole batches or
/// nothing. A record that cannot be written is refused (<see cref="RecordRejectedException"/>) before
/// any of it is sent, and the writer goes on. Call <see cref="FlushAsync"/> at the end: disposing
/// without it rolls back the open batch.
/// </summary>
/// <remarks>
/// As the <see cref="IRecordSink"/> of a <see cref="Migration"/>, it keeps the migration's checkpoint in the target
/// database, advanced in each batch's transaction, and after a lost connection reopens on a new one, reading back
/// from the checkpoint what the database holds.
/// </remarks>
public sealed class PgVectorWriter : IRecordSink
{
    private readonly PgWriteOptions _options;
    private readonly ILogger _logger;
    private readonly Stopwatch _clock = new();
    private readonly byte[] _idScratch = new byte[32];
    private NpgsqlConnection? _conn;
    private NpgsqlTransaction? _tx;
    private NpgsqlRawCopyStream? _copy;
    private readonly PgCopyBuffer _copyBuffer = new();
    private short _fieldCount;
    private PgRowEncoder? _encoder;
    private uint _vectorOid;
    private uint _halfvecOid;
    private int _inBatch;
    private PointId _batchFirst;
    private PointId _batchLast;
    private long _written;
    private long _rejected;
    private int _batches;
    private bool _failed;
    private bool _truncated;
    private bool _stageReady;
    private long _checkpointBase;
    private string? _lastPosition;
    private PgCheckpoint? _checkpoint;
    private (string Holder, TimeSpan Lease)? _lease;
    private const string StageTable = "vecmigrate_stage";

    /// <summary>Encoded rows go to the COPY once this many bytes are buffered (and at the end of the batch).</summary>
    private const int CopyChunk = 64 * 1024;

    public PgVectorWriter(PgWriteOptions options, ILogger? logger = null)
    {
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The table plan, once the first record has fixed it.</summary>
    public PgTablePlan? Plan { get; private set; }

    /// <summary>The CREATE INDEX statements <see cref="CreateIndexesAsync"/> will run, once planned.</summary>
    public IReadOnlyList<string> IndexDdl { get; private set; } = [];

    /// <summary>Called after each batch commits, with the summary so far (for progress).</summary>
    public Action<PgWriteSummary>? BatchCommitted { get; init; }

    public PgWriteSummary Summary => new(Plan?.DisplayName ?? $"{_options.Schema}.{_options.Table}", _written, _rejected, _batches, _clock.Elapsed);

    /// <summary>A description of the target for messages: host, port, database, user; never the password.</summary>
    public string TargetDescription => PgConnections.Describe(_options.ConnectionString);

    /// <summary>
    /// Works out what writing <paramref name="first"/> (and records like it) would do, without changing
    /// anything: the table plan, with <see cref="PgTablePlan.Ddl"/> when the table would be created.
    /// </summary>
    public async Task<PgTablePlan> PlanAsync(VectorRecord first, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var (plan, _) = await PlanCoreAsync(conn, first, create: false, cancellationToken).ConfigureAwait(false);
        IndexDdl = PgIndexPlanner.Plan(plan, _options.Index, _options.IndexMetric, first.Schema);
        return plan;
    }

    /// <summary>
    /// Writes one record into the open batch (starting one, and on the first record preparing the
    /// table). Throws <see cref="RecordRejectedException"/> for a record that cannot be written (nothing
    /// of it is written; the writer goes on), and <see cref="VecMigrateException"/> when a batch fails
    /// (it is rolled back; earlier batches stay; the writer cannot go on).
    /// </summary>
    public async ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_failed) throw new InvalidOperationException("The writer failed earlier and cannot go on.");
        if (Plan is null)
        {
            _clock.Start();
            await PrepareAsync(record, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            _encoder!.Encode(record);
        }
        catch (RecordRejectedException)
        {
            _rejected++;
            throw;
        }

        try
        {
            if (_copy is null) await BeginBatchAsync(cancellationToken).ConfigureAwait(false);
            await WriteRowAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
        {
            throw await FailBatchAsync(ex).ConfigureAwait(false);
        }
        if (_inBatch == 0) _batchFirst = record.Id;
        _batchLast = record.Id;
        _lastPosition = record.Position;
        _inBatch++;
        if (_inBatch >= _options.BatchSize) await CommitBatchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits the open batch, if any.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failed) return;
        if (_copy != null) await CommitBatchAsync(cancellationToken).ConfigureAwait(false);
        _clock.Stop();
    }

    /// <summary>
    /// Commits the open batch and marks the checkpoint complete: the source was read to its end.
    /// </summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_failed || _checkpoint is not { } cp || _conn is null || Plan is null) return;
        try
        {
            await using var tx = await _conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (_lease is { } lease) await PgPartitionLedger.FenceAsync(_conn, tx, _options.Schema, cp.Name, lease.Holder, lease.Lease, cancellationToken).ConfigureAwait(false);
            await PgCheckpointStore.AdvanceAsync(_conn, tx, _options.Schema, cp, Plan.DisplayName, _lastPosition, _checkpointBase + _written, completed: true, cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or VecMigrateException)
        {
            _failed = true;
            throw new VecMigrateException(PgConnections.IsConnectionLoss(ex) ? FailureKind.Unreachable : FailureKind.WriteFailed, "PgCheckpointFailed",
                $"Every batch is written to {Plan.DisplayName}, but marking checkpoint '{cp.Name}' complete failed: {(ex is PostgresException pg ? pg.MessageText : ex.Message)}.",
                cp.Name, ex);
        }
    }

    /// <summary>Builds the planned vector indexes (after the load: far faster than maintaining them row by row).</summary>
    public async Task CreateIndexesAsync(CancellationToken cancellationToken = default)
    {
        if (IndexDdl.Count == 0 || _failed) return;
        var conn = _conn ?? await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var ddl in IndexDdl)
            {
                await using var cmd = new NpgsqlCommand(ddl, conn) { CommandTimeout = 0 };
                try
                {
                    await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex)
                {
                    throw new VecMigrateException(FailureKind.WriteFailed, "PgIndexFailed",
                        $"Building an index on {Plan?.DisplayName ?? _options.Table} failed: {ex.MessageText}. The rows are written; only the index is missing. Statement: {ddl}",
                        Plan?.DisplayName ?? _options.Table, ex);
                }
                Log.IndexCreated(_logger, ddl);
            }
        }
        finally
        {
            if (!ReferenceEquals(conn, _conn)) await conn.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task PrepareAsync(VectorRecord first, CancellationToken ct)
    {
        _conn = await OpenAsync(ct).ConfigureAwait(false);
        if (_lease is not null)
        {
            // Lanes of a split migration start together: one at a time looks at the table and creates it, so that the
            // others find it made (two CREATE TABLEs at once can fail on the catalog's own unique keys).
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext(@t))", _conn);
            cmd.Parameters.AddWithValue("t", $"vecmigrate:{_options.Schema}.{_options.Table}");
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        try
        {
            await PrepareLockedAsync(first, ct).ConfigureAwait(false);
        }
        finally
        {
            if (_lease is not null && _conn.State == System.Data.ConnectionState.Open)
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext(@t))", _conn);
                cmd.Parameters.AddWithValue("t", $"vecmigrate:{_options.Schema}.{_options.Table}");
                await cmd.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task PrepareLockedAsync(VectorRecord first, CancellationToken ct)
    {
        var (plan, columns) = await PlanCoreAsync(_conn!, first, create: true, ct).ConfigureAwait(false);
        // Refuse an index that cannot be built before the table is made or a row is written.
        IndexDdl = PgIndexPlanner.Plan(plan, _options.Index, _options.IndexMetric, first.Schema);
        if (!plan.Exists)
        {
            foreach (var ddl in plan.Ddl)
            {
                await using var cmd = new NpgsqlCommand(ddl, _conn);
                try
                {
                    await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateTable)
                {
                    // Made by someone else between our look and our CREATE: check it as an existing table.
                    var existing = await PgTableInspector.ReadColumnsAsync(_conn!, plan.Schema, plan.Table, ct).ConfigureAwait(false);
                    plan = PgTableInspector.Reconcile(plan, existing!, first.Schema?.IdKinds ?? IdKinds.None);
                    break;
                }
                catch (PostgresException ex)
                {
                    throw new VecMigrateException(FailureKind.WriteFailed, "PgCreateTableFailed",
                        $"Could not create table {plan.DisplayName}: {ex.MessageText}", plan.DisplayName, ex);
                }
            }
            Log.TableCreated(_logger, plan.DisplayName, string.Join(", ", plan.CopyColumns));
        }
        if (_options.Mode == PgWriteMode.Upsert && plan.Exists) await CheckUpsertKeyAsync(_conn!, plan, ct).ConfigureAwait(false);
        if (_checkpoint is { } cp)
        {
            await using (var cmd = new NpgsqlCommand(PgCheckpointStore.CreateSql(_options.Schema), _conn))
            {
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            // The runner has checked the checkpoint (and refused an existing one without Resume): go on from its count.
            var state = await PgCheckpointStore.ResumeFromAsync(_options.ConnectionString, _options.Schema, cp, plan.DisplayName, ct).ConfigureAwait(false);
            if (state != null)
            {
                _checkpointBase = state.Records;
                _truncated = true; // a resumed Replace keeps what the interrupted run wrote
            }
        }
        Plan = plan;
        _encoder = new PgRowEncoder(plan, _vectorOid, _halfvecOid);
        _fieldCount = checked((short)plan.CopyColumns.Count);
    }

    private static async Task CheckUpsertKeyAsync(NpgsqlConnection conn, PgTablePlan plan, CancellationToken ct)
    {
        // Upsert needs a unique index on exactly the key columns for ON CONFLICT.
        const string sql = """
            SELECT EXISTS (
              SELECT 1 FROM pg_index i
              WHERE i.indrelid = to_regclass(@t) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                     WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = @cols)
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("t", plan.QualifiedName);
        cmd.Parameters.AddWithValue("cols", plan.KeyColumns.Order(StringComparer.Ordinal).ToArray());
        if (!(bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
        {
            throw new VecMigrateException(FailureKind.IncompatibleTarget, "PgUpsertNeedsKey",
                $"Upsert into {plan.DisplayName} needs a primary key or unique index on ({string.Join(", ", plan.KeyColumns)}); the table has none. Nothing was written.",
                plan.DisplayName);
        }
    }

    private async Task<(PgTablePlan Plan, Dictionary<string, PgTableInspector.ColumnInfo>? Columns)> PlanCoreAsync(
        NpgsqlConnection conn, VectorRecord first, bool create, CancellationToken ct)
    {
        SourceSchema.RefuseRowLocations(first.Schema, $"Postgres table {_options.Schema}.{_options.Table}");
        var shape = first.Columns?.Shape;
        var wanted = first.Schema is { } schema
            ? PgTablePlan.ForSchema(_options.Schema, _options.Table, schema, _options.IdType, _options.SparseDimension, _options.VectorType, shape)
            : PgTablePlan.ForRecord(_options.Schema, _options.Table, first, _options.IdType, _options.SparseDimension, _options.VectorType, shape);
        if (wanted.NeedsPgvector) await EnsureExtensionAsync(conn, create, ct).ConfigureAwait(false);
        var columns = await PgTableInspector.ReadColumnsAsync(conn, _options.Schema, _options.Table, ct).ConfigureAwait(false);
        if (columns is null)
        {
            await using var s = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @s)", conn);
            s.Parameters.AddWithValue("s", _options.Schema);
            if (!(bool)(await s.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                throw new VecMigrateException(FailureKind.NotFound, "PgSchemaNotFound",
                    $"Schema '{_options.Schema}' does not exist in {TargetDescription}; create it first (CREATE SCHEMA).", _options.Schema);
            }
            return (wanted, null);
        }
        var kinds = first.Schema?.IdKinds ?? IdKindOf(first.Id);
        return (PgTableInspector.Reconcile(wanted, columns, kinds), columns);
    }

    private static IdKinds IdKindOf(PointId id) => id.Kind switch
    {
        PointIdKind.Unsigned => IdKinds.Unsigned,
        PointIdKind.Uuid => IdKinds.Uuid,
        _ => IdKinds.String,
    };

    private async Task EnsureExtensionAsync(NpgsqlConnection conn, bool create, CancellationToken ct)
    {
        if (await ReadVectorOidsAsync(conn, ct).ConfigureAwait(false)) return;
        await using (var avail = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')", conn))
        {
            var available = (bool)(await avail.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            if (!available)
            {
                throw new VecMigrateException(FailureKind.MissingPrerequisite, "PgVectorExtensionMissing",
                    $"The pgvector extension is not installed on the server {TargetDescription}. Install it (e.g. the postgresql-NN-pgvector package, or build it from source) and run CREATE EXTENSION vector, or store dense vectors as plain real[] (vector type RealArray).",
                    TargetDescription);
            }
        }
        if (!create || !_options.CreateExtension)
        {
            throw new VecMigrateException(FailureKind.MissingPrerequisite, "PgVectorExtensionNotCreated",
                $"The database {TargetDescription} has not enabled pgvector; run CREATE EXTENSION vector (the server has it), or store dense vectors as plain real[] (vector type RealArray).", TargetDescription);
        }
        try
        {
            await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", conn);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Log.ExtensionCreated(_logger, TargetDescription);
        }
        catch (PostgresException ex)
        {
            throw new VecMigrateException(FailureKind.MissingPrerequisite, "PgVectorExtensionNotCreated",
                $"The database {TargetDescription} has not enabled pgvector and CREATE EXTENSION vector failed: {ex.MessageText}. Ask its owner to run CREATE EXTENSION vector.",
                TargetDescription, ex);
        }
        await conn.ReloadTypesAsync().ConfigureAwait(false);
        await ReadVectorOidsAsync(conn, ct).ConfigureAwait(false);
    }

    private async Task<bool> ReadVectorOidsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        const string sql = """
            SELECT t.typname, t.oid FROM pg_type t
            JOIN pg_depend d ON d.objid = t.oid AND d.classid = 'pg_type'::regclass AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
            WHERE t.typname IN ('vector', 'halfvec')
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var any = false;
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            any = true;
            if (r.GetString(0) == "vector") _vectorOid = r.GetFieldValue<uint>(1);
            else _halfvecOid = r.GetFieldValue<uint>(1);
        }
        return any;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = PgDataSources.CreateConnection(_options.ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            return conn;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw PgConnections.ConnectFailure(ex, TargetDescription, _options.ConnectionString);
        }
    }

    private async Task BeginBatchAsync(CancellationToken ct)
    {
        _tx = await _conn!.BeginTransactionAsync(ct).ConfigureAwait(false);
        var plan = Plan!;
        if (_options.Mode == PgWriteMode.Replace && !_truncated)
        {
            // In the first batch's transaction: if that batch fails, the old rows are still there.
            await ExecAsync($"TRUNCATE {plan.QualifiedName}", ct).ConfigureAwait(false);
        }
        var into = plan.QualifiedName;
        if (_options.Mode == PgWriteMode.Upsert)
        {
            if (!_stageReady)
            {
                // A session-private copy of the table's columns plus the arrival order, so that when a
                // batch holds the same key twice the last one wins, as it would row by row.
                await ExecAsync($"CREATE TEMP TABLE IF NOT EXISTS {StageTable} (LIKE {plan.QualifiedName} INCLUDING DEFAULTS)", ct).ConfigureAwait(false);
                await ExecAsync($"ALTER TABLE {StageTable} ADD COLUMN IF NOT EXISTS vecmigrate_ord bigint GENERATED ALWAYS AS IDENTITY", ct).ConfigureAwait(false);
                _stageReady = true;
            }
            await ExecAsync($"TRUNCATE {StageTable}", ct).ConfigureAwait(false);
            into = StageTable;
        }
        // Raw binary COPY: the tuples are written here (PgCopyBuffer) and sent in large chunks.
        _copy = await _conn.BeginRawBinaryCopyAsync(plan.CopyInto(into), ct).ConfigureAwait(false);
        _copy.WriteTimeout = _copy.ReadTimeout = (int)TimeSpan.FromMinutes(10).TotalMilliseconds;
        _copyBuffer.Clear();
        _copyBuffer.WriteHeader();
    }

    private async Task ExecAsync(string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, _conn, _tx);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private string MergeSql()
    {
        var plan = Plan!;
        var cols = string.Join(", ", plan.CopyColumns.Select(PgTablePlan.Quote));
        var keys = string.Join(", ", plan.KeyColumns.Select(PgTablePlan.Quote));
        var updates = plan.CopyColumns.Except(plan.KeyColumns).Select(c => $"{PgTablePlan.Quote(c)} = EXCLUDED.{PgTablePlan.Quote(c)}").ToList();
        var action = updates.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", updates);
        return $"INSERT INTO {plan.QualifiedName} ({cols}) SELECT DISTINCT ON ({keys}) {cols} FROM {StageTable} ORDER BY {keys}, vecmigrate_ord DESC ON CONFLICT ({keys}) {action}";
    }

    /// <summary>Appends the encoded record as one tuple to the COPY buffer, sending the buffer once it is large.</summary>
    private ValueTask WriteRowAsync(VectorRecord record, CancellationToken ct)
    {
        var buf = _copyBuffer;
        var plan = Plan!;
        buf.StartTuple(_fieldCount);
        var id = record.Id;
        switch (plan.IdType)
        {
            case PgIdType.Numeric:
                buf.WriteField(PgRowEncoder.NumericId(_idScratch, id.AsUnsigned).Span);
                break;
            case PgIdType.BigInt:
                buf.WriteField(PgRowEncoder.BigIntId(_idScratch, id.AsUnsigned).Span);
                break;
            case PgIdType.Uuid:
                buf.WriteField(PgRowEncoder.UuidId(_idScratch, id.AsUuid).Span);
                break;
            default:
                buf.WriteText(id.ToString());
                break;
        }
        if (plan.HasNamespace) buf.WriteText(record.Namespace ?? "");
        var encoder = _encoder!;
        for (var i = 0; i < plan.VectorColumns.Count; i++) buf.WriteField(encoder.Vector(i));
        for (var i = 0; i < plan.TypedColumns.Count; i++) buf.WriteField(encoder.Typed(i));
        if (plan.PayloadColumn != null) buf.WriteField(encoder.Payload);
        return buf.Length >= CopyChunk ? SendCopyBufferAsync(ct) : ValueTask.CompletedTask;
    }

    private async ValueTask SendCopyBufferAsync(CancellationToken ct)
    {
        await _copy!.WriteAsync(_copyBuffer.Written, ct).ConfigureAwait(false);
        _copyBuffer.Clear();
    }

    private async Task CommitBatchAsync(CancellationToken ct)
    {
        var expected = _inBatch;
        try
        {
            _copyBuffer.WriteTrailer();
            await SendCopyBufferAsync(ct).ConfigureAwait(false);
            // Disposing the raw stream ends the COPY (CopyDone) and waits for the server's answer; it throws
            // the server's error when the rows are refused. It does not pass on the row count.
            var copy = _copy!;
            _copy = null;
            await copy.DisposeAsync().ConfigureAwait(false);
            if (_options.Mode == PgWriteMode.Upsert) await ExecAsync(MergeSql(), ct).ConfigureAwait(false);
            if (_checkpoint is { } cp)
            {
                // A partition's batch commits only while this writer's lane holds its lease (and renews it).
                if (_lease is { } lease) await PgPartitionLedger.FenceAsync(_conn!, _tx!, _options.Schema, cp.Name, lease.Holder, lease.Lease, ct).ConfigureAwait(false);
                await PgCheckpointStore.AdvanceAsync(_conn!, _tx!, _options.Schema, cp, Plan!.DisplayName, _lastPosition,
                    _checkpointBase + _written + expected, completed: false, ct).ConfigureAwait(false);
            }
            await _tx!.CommitAsync(ct).ConfigureAwait(false);
            _truncated = true;
            await _tx.DisposeAsync().ConfigureAwait(false);
            _tx = null;
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or TimeoutException or VecMigrateException)
        {
            throw await FailBatchAsync(ex).ConfigureAwait(false);
        }
        _written += expected;
        _batches++;
        _inBatch = 0;
        Log.BatchCommitted(_logger, expected, Plan!.DisplayName, _written);
        BatchCommitted?.Invoke(Summary);
        _acknowledged?.Invoke(new AcknowledgedBatch(expected, _lastPosition));
    }

    private async Task<VecMigrateException> FailBatchAsync(Exception ex)
    {
        _failed = true;
        var lost = _inBatch;
        var brokenConnection = _conn is not null && (_conn.FullState & System.Data.ConnectionState.Broken) != 0;
        await AbortAsync().ConfigureAwait(false);
        var table = Plan?.DisplayName ?? _options.Table;
        var detail = ex is PostgresException pg
            ? pg.MessageText + (pg.Detail is { Length: > 0 } d ? $" ({d})" : "")
            : ex.Message;
        if (ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && _options.Mode == PgWriteMode.Append)
        {
            detail += ". The table already holds a record with that key: write with mode Upsert to update existing rows, or resume from a checkpoint";
        }
        var range = lost > 0 ? $"the batch of {lost} records with ids {_batchFirst} to {_batchLast}" : "the batch";
        var kind = PgConnections.IsConnectionLoss(ex) || brokenConnection ? FailureKind.Unreachable : FailureKind.WriteFailed;
        return new VecMigrateException(kind, "PgVectorBatchFailed",
            $"Writing to {table} failed and {range} was rolled back: {detail}. The {_written} records committed before it stay.",
            table, ex);
    }

    private async Task AbortAsync()
    {
        // Cancel the COPY (CopyFail; never dispose an open raw COPY stream: that would end it as complete), then roll back.
        var copy = _copy;
        _copy = null;
        _copyBuffer.Clear();
        try { if (copy != null) await copy.CancelAsync().ConfigureAwait(false); } catch (Exception) { /* connection may be gone */ }
        try { if (_tx != null) await _tx.RollbackAsync().ConfigureAwait(false); } catch (Exception) { /* connection may be gone */ }
        try { if (_tx != null) await _tx.DisposeAsync().ConfigureAwait(false); } catch (Exception) { }
        _tx = null;
        _inBatch = 0;
    }

    // ---------------------------------------------------------------- as a migration's sink

    private Action<AcknowledgedBatch>? _acknowledged;

    /// <summary>The table as checkpoints record it (schema.table: the checkpoint is kept in the same database).</summary>
    string IRecordSink.Target => $"{_options.Schema}.{_options.Table}";

    /// <summary>Only Upsert writes a record again harmlessly; Append would fail on the key, and without a key add it twice.</summary>
    bool IRecordSink.Idempotent => _options.Mode == PgWriteMode.Upsert;

    event Action<AcknowledgedBatch>? IRecordSink.BatchAcknowledged
    {
        add => _acknowledged += value;
        remove => _acknowledged -= value;
    }

    /// <summary>Keeps the checkpoint in this database's checkpoint table, advanced in each batch's transaction.</summary>
    ICheckpointStore? IRecordSink.AttachCheckpoint(string name, string source, bool resume)
    {
        if (Plan is not null) throw new InvalidOperationException("A checkpoint is attached before the first record.");
        _checkpoint = new PgCheckpoint(name, source);
        return PgCheckpointStore.Open(_options.ConnectionString, _options.Schema);
    }

    /// <summary>
    /// Commits each batch of a partition only while <paramref name="holder"/> holds its lease (checked and renewed in
    /// the batch's transaction); not for Replace, whose first batch empties the table.
    /// </summary>
    bool IRecordSink.AttachLease(string holder, TimeSpan lease)
    {
        if (Plan is not null) throw new InvalidOperationException("A lease is attached before the first record.");
        if (_options.Mode == PgWriteMode.Replace) return false;
        _lease = (holder, lease);
        return true;
    }

    /// <summary>
    /// After a failed batch: a new connection (the pool's idle ones may have died with the server), and the counts
    /// taken again from the checkpoint, which saw every commit, even one whose answer was lost.
    /// </summary>
    async Task IRecordSink.ReopenAsync(CancellationToken cancellationToken)
    {
        await AbortAsync().ConfigureAwait(false);
        if (_conn != null)
        {
            try { await _conn.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* already broken */ }
            _conn = null;
        }
        await using (var forPool = PgDataSources.CreateConnection(_options.ConnectionString))
        {
            NpgsqlConnection.ClearPool(forPool);
        }
        _stageReady = false; // the temporary stage table went with the old session
        if (Plan is null)
        {
            _failed = false; // nothing was prepared: the next record prepares on a new connection
            return;
        }
        _conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (_checkpoint is { } cp)
        {
            var state = await PgCheckpointStore.ResumeFromAsync(_options.ConnectionString, _options.Schema, cp, Plan.DisplayName, cancellationToken).ConfigureAwait(false);
            if (state != null)
            {
                _written = state.Records - _checkpointBase;
                _lastPosition = state.Position;
                _truncated = true;
            }
        }
        _failed = false;
    }

    /// <summary>Rolls back an open batch that was not flushed, and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await AbortAsync().ConfigureAwait(false);
        if (_conn != null) await _conn.DisposeAsync().ConfigureAwait(false);
        _conn = null;
    }
}

/// <summary>Connection helpers that keep passwords out of every message.</summary>
public static class PgConnections
{
    /// <summary>"host:port/database as user", with PG* environment defaults filled in; never the password.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            var host = b.Host ?? Environment.GetEnvironmentVariable("PGHOST") ?? "localhost";
            var port = b.Port != 5432 ? b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : Environment.GetEnvironmentVariable("PGPORT") ?? "5432";
            var db = b.Database ?? Environment.GetEnvironmentVariable("PGDATABASE");
            var user = b.Username ?? Environment.GetEnvironmentVariable("PGUSER");
            var sb = new StringBuilder().Append(host).Append(':').Append(port);
            if (db != null) sb.Append('/').Append(db);
            if (user != null) sb.Append(" as ").Append(user);
            return sb.ToString();
        }
        catch (ArgumentException)
        {
            return "(unparseable connection string)";
        }
    }

    /// <summary>
    /// The connection is gone, not the statement wrong: a socket error, end of stream or timeout, SQLSTATE class 08,
    /// or the server going down (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
    /// </summary>
    internal static bool IsConnectionLoss(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03",
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } => true,
        NpgsqlException n when n.InnerException is NpgsqlException inner => IsConnectionLoss(inner),
        IOException or System.Net.Sockets.SocketException or TimeoutException => true,
        _ => false,
    };

    internal static VecMigrateException ConnectFailure(Exception ex, string target, string? connectionString = null)
    {
        // No Entra ID token could be had: Npgsql's password provider raised it, naming server, role and identity.
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is VecMigrateException { ErrorId: "PgEntraTokenFailed" } tokenFailed) return tokenFailed;
        }
        var (kind, id) = ex is PostgresException { SqlState: "28P01" or "28000" }
            ? (FailureKind.Unauthorized, "PgAuthenticationFailed")
            : ex is PostgresException { SqlState: "3D000" }
                ? (FailureKind.NotFound, "PgDatabaseNotFound")
                : (FailureKind.Unreachable, "PgUnreachable");
        var why = ex is PostgresException pg ? pg.MessageText : ex.Message;
        if (id == "PgAuthenticationFailed" && connectionString is not null && PgDataSources.EntraTokenFor(connectionString) is { } token)
        {
            why += $". The password was a Microsoft Entra ID token of the {token.Describe()}: the server refused it (expired, issued for another " +
                "identity, or the role is not that identity's Entra principal: create it with pgaadauth_create_principal and connect as its name)";
        }
        return new VecMigrateException(kind, id, $"Cannot connect to Postgres at {target}: {why}", target, ex);
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Created table {Table} ({Columns})")]
    public static partial void TableCreated(ILogger logger, string table, string columns);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Created the vector extension in {Target}")]
    public static partial void ExtensionCreated(ILogger logger, string target);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Built index: {Statement}")]
    public static partial void IndexCreated(ILogger logger, string statement);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Committed a batch of {Count} records into {Table} ({Total} in all)")]
    public static partial void BatchCommitted(ILogger logger, int count, string table, long total);
}
