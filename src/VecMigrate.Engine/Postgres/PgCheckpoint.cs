using Npgsql;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// A named migration's progress, kept in the target database's <c>vecmigrate_checkpoint</c> table and
/// advanced in the same transaction as each batch it covers, so data and checkpoint never disagree.
/// </summary>
/// <param name="Name">The migration's name (one row per name).</param>
/// <param name="Source">What is read: system, endpoint, collection (never a secret). A resume against another source is refused.</param>
public sealed record PgCheckpoint(string Name, string Source);

/// <summary>One stored checkpoint.</summary>
public sealed record PgCheckpointState(string Name, string Source, string Target, string? Position, long Records, bool Completed, DateTimeOffset UpdatedAt)
{
    /// <summary>For the whole of a migration split into partitions: how many (its records are theirs added up); else null.</summary>
    public int? Partitions { get; init; }

    /// <summary>For a partition (<c>big#3/8</c>): the worker that holds (or last held) its lease; else null.</summary>
    public string? Holder { get; init; }

    /// <summary>For a partition: when its holder's lease runs out unless a batch renews it.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }
}

/// <summary>Reads, lists and removes checkpoints; the writer advances them.</summary>
public static class PgCheckpointStore
{
    public const string TableName = "vecmigrate_checkpoint";

    internal static string Qualified(string schema) => $"{PgTablePlan.Quote(schema)}.{PgTablePlan.Quote(TableName)}";

    internal static string CreateSql(string schema) => $"""
        CREATE TABLE IF NOT EXISTS {Qualified(schema)} (
            name text PRIMARY KEY,
            source text NOT NULL,
            target text NOT NULL,
            position text,
            records bigint NOT NULL DEFAULT 0,
            completed boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    internal static async Task AdvanceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string schema, PgCheckpoint cp, string target,
        string? position, long records, bool completed, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            INSERT INTO {Qualified(schema)} (name, source, target, position, records, completed, updated_at)
            VALUES (@n, @s, @t, @p, @r, @c, now())
            ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, records = EXCLUDED.records,
                completed = EXCLUDED.completed, updated_at = now()
            """, conn, tx);
        cmd.Parameters.AddWithValue("n", cp.Name);
        cmd.Parameters.AddWithValue("s", cp.Source);
        cmd.Parameters.AddWithValue("t", target);
        cmd.Parameters.AddWithValue("p", (object?)position ?? DBNull.Value);
        cmd.Parameters.AddWithValue("r", records);
        cmd.Parameters.AddWithValue("c", completed);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Every checkpoint in <paramref name="schema"/> (none when the table is not there).</summary>
    public static async Task<IReadOnlyList<PgCheckpointState>> ListAsync(string connectionString, string schema = "public", string? name = null, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var conn = await OpenAsync(connectionString, ct).ConfigureAwait(false);
            try
            {
                if (!await ExistsAsync(conn, schema, ct).ConfigureAwait(false)) return [];
                var split = await PartitionsExistAsync(conn, schema, ct).ConfigureAwait(false);
                var pt = PgPartitionLedger.Qualified(schema);
                // With partitions: a whole's records are its partitions' added up, a partition shows its lease.
                await using var cmd = new NpgsqlCommand(split
                    ? $"""
                      SELECT c.name, c.source, c.target, c.position, coalesce(w.records, c.records), c.completed, c.updated_at, w.parts, p.holder, p.lease_until
                      FROM {Qualified(schema)} c
                      LEFT JOIN (SELECT q.name, count(*)::int AS parts, sum(r.records)::bigint AS records
                                 FROM {pt} q JOIN {Qualified(schema)} r ON r.name = q.part_name GROUP BY q.name) w ON w.name = c.name
                      LEFT JOIN {pt} p ON p.part_name = c.name
                      WHERE @n::text IS NULL OR c.name = @n ORDER BY c.name
                      """
                    : $"SELECT name, source, target, position, records, completed, updated_at, NULL::int, NULL::text, NULL::timestamptz FROM {Qualified(schema)} WHERE @n::text IS NULL OR name = @n ORDER BY name",
                    conn);
                cmd.Parameters.AddWithValue("n", NpgsqlTypes.NpgsqlDbType.Text, (object?)name ?? DBNull.Value);
                var result = new List<PgCheckpointState>();
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    result.Add(new PgCheckpointState(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                        r.GetInt64(4), r.GetBoolean(5), r.GetFieldValue<DateTimeOffset>(6))
                    {
                        Partitions = r.IsDBNull(7) ? null : r.GetInt32(7),
                        Holder = r.IsDBNull(8) ? null : r.GetString(8),
                        LeaseUntil = r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                    });
                }
                return result;
            }
            catch (Exception ex) when (PgConnections.IsConnectionLoss(ex))
            {
                // The pool hands out idle connections that died with a restarted server: drop them, try once more on a
                // new one, then say it as the writer would (PgUnreachable), so that a caller can reconnect.
                NpgsqlConnection.ClearPool(conn);
                if (attempt >= 2) throw PgConnections.ConnectFailure(ex, PgConnections.Describe(connectionString), connectionString);
            }
        }
    }

    /// <summary>Removes a checkpoint; true when there was one.</summary>
    public static async Task<bool> RemoveAsync(string connectionString, string name, string schema = "public", CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(connectionString, ct).ConfigureAwait(false);
        if (!await ExistsAsync(conn, schema, ct).ConfigureAwait(false)) return false;
        if (!await PartitionsExistAsync(conn, schema, ct).ConfigureAwait(false))
        {
            await using var cmd = new NpgsqlCommand($"DELETE FROM {Qualified(schema)} WHERE name = @n", conn);
            cmd.Parameters.AddWithValue("n", name);
            return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        }
        // A split migration goes whole: its partitions' checkpoints and leases with it (one of them alone cannot be removed:
        // the split is fixed, and a missing partition would leave its records uncopied).
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var pt = PgPartitionLedger.Qualified(schema);
        await using (var part = new NpgsqlCommand($"SELECT count(*) FROM {pt} WHERE part_name = @n", conn, tx))
        {
            part.Parameters.AddWithValue("n", name);
            if ((long)(await part.ExecuteScalarAsync(ct).ConfigureAwait(false))! > 0)
            {
                var whole = PartitionNames.TryParse(name, out var w, out _) ? w : name;
                throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionRemoveWhole",
                    $"'{name}' is one partition of checkpoint '{whole}'; remove '{whole}' to remove the whole migration's checkpoint with all its partitions.", name);
            }
        }
        await using var del = new NpgsqlCommand(
            $"DELETE FROM {Qualified(schema)} WHERE name = @n OR name IN (SELECT part_name FROM {pt} WHERE name = @n); DELETE FROM {pt} WHERE name = @n", conn, tx);
        del.Parameters.AddWithValue("n", name);
        var removed = await del.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return removed;
    }

    /// <summary>
    /// The position to resume after for <paramref name="checkpoint"/> writing into <paramref name="target"/>:
    /// null when there is no checkpoint yet. Refuses (<c>PgCheckpointMismatch</c>) a checkpoint that
    /// recorded another source or target.
    /// </summary>
    public static async Task<PgCheckpointState?> ResumeFromAsync(string connectionString, string schema, PgCheckpoint checkpoint, string target, CancellationToken ct = default)
    {
        var found = (await ListAsync(connectionString, schema, checkpoint.Name, ct).ConfigureAwait(false)).SingleOrDefault();
        if (found is null) return null;
        if (found.Source != checkpoint.Source || found.Target != target)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgCheckpointMismatch",
                $"Checkpoint '{checkpoint.Name}' was recorded for {found.Source} → {found.Target}, not {checkpoint.Source} → {target}; " +
                "use another checkpoint name, or remove this one to start over.", checkpoint.Name);
        }
        return found;
    }

    /// <summary>
    /// The checkpoints of the database <paramref name="connectionString"/> names, as an <see cref="ICheckpointStore"/>
    /// (for the migration runner and the checkpoint cmdlets). Saving through it writes outside any batch: the writer
    /// itself advances checkpoints in each batch's transaction.
    /// </summary>
    public static ICheckpointStore Open(string connectionString, string schema = "public") => new Store(connectionString, schema);

    private sealed class Store(string connectionString, string schema) : ICheckpointStore
    {
        public string Location { get; } = $"{PgConnections.Describe(connectionString)} table {schema}.{TableName}";

        public async Task<MigrationCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default) =>
            (await PgCheckpointStore.ListAsync(connectionString, schema, name, cancellationToken).ConfigureAwait(false)).Select(ToMigration).SingleOrDefault();

        public async Task<IReadOnlyList<MigrationCheckpoint>> ListAsync(CancellationToken cancellationToken = default) =>
            (await PgCheckpointStore.ListAsync(connectionString, schema, null, cancellationToken).ConfigureAwait(false)).Select(ToMigration).ToList();

        public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default) =>
            PgCheckpointStore.RemoveAsync(connectionString, name, schema, cancellationToken);

        public async Task SaveAsync(MigrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
        {
            await using var conn = await OpenAsync(connectionString, cancellationToken).ConfigureAwait(false);
            try
            {
                await using (var create = new NpgsqlCommand(CreateSql(schema), conn))
                {
                    await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await AdvanceAsync(conn, tx, schema, new PgCheckpoint(checkpoint.Name, checkpoint.Source), checkpoint.Target, checkpoint.Position,
                    checkpoint.Records, checkpoint.Completed, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                throw new VecMigrateException(PgConnections.IsConnectionLoss(ex) ? FailureKind.Unreachable : FailureKind.WriteFailed, "PgCheckpointFailed",
                    $"Could not save checkpoint '{checkpoint.Name}' in {Location}: {(ex is PostgresException pg ? pg.MessageText : ex.Message)}", checkpoint.Name, ex);
            }
        }

        private static MigrationCheckpoint ToMigration(PgCheckpointState s) =>
            new(s.Name, s.Source, s.Target, s.Position, s.Records, s.Completed, s.UpdatedAt) { Partitions = s.Partitions };
    }

    private static Task<bool> PartitionsExistAsync(NpgsqlConnection conn, string schema, CancellationToken ct) =>
        TablesExistAsync(conn, null, schema, ct, PgPartitionLedger.TableName);

    private static Task<bool> ExistsAsync(NpgsqlConnection conn, string schema, CancellationToken ct) =>
        TablesExistAsync(conn, null, schema, ct, TableName);

    /// <summary>
    /// Whether all of <paramref name="tables"/> exist in <paramref name="schema"/>, read from pg_class with the statement's
    /// snapshot. Not to_regclass: it looks the name up in the session's catalog cache without taking a lock, so inside a
    /// transaction begun before another session created the tables it can still answer "no such table" after that
    /// session committed (seen: a partition ledger reader that waited on the creators' lock found the split's rows but not
    /// its table).
    /// </summary>
    internal static async Task<bool> TablesExistAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string schema, CancellationToken ct, params string[] tables)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = @s AND c.relname = ANY(@t)",
            conn, tx);
        cmd.Parameters.AddWithValue("s", schema);
        cmd.Parameters.AddWithValue("t", tables);
        return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))! == tables.Length;
    }

    /// <summary>An open connection, or <c>PgUnreachable</c>/<c>PgAuthenticationFailed</c> naming the server.</summary>
    internal static async Task<NpgsqlConnection> OpenAsync(string cs, CancellationToken ct)
    {
        var conn = PgDataSources.CreateConnection(cs);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            return conn;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw PgConnections.ConnectFailure(ex, PgConnections.Describe(cs), cs);
        }
    }
}
