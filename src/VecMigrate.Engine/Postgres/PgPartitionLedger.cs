using Npgsql;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// A migration split into partitions, kept in the target database next to the checkpoints: the whole is a row of
/// <c>vecmigrate_checkpoint</c> (with no position of its own), each partition is a checkpoint row of its own
/// (<c>big#3/8</c>, advanced in each of its batches' transactions as any checkpoint is) and a row of
/// <c>vecmigrate_partition</c> with its bounds and its lease. The lease is taken with a conditional UPDATE (row locks
/// make two takers see each other) and checked and renewed in each batch's own transaction by
/// <see cref="FenceAsync"/>, so a worker that lost its lease cannot commit.
/// </summary>
public sealed class PgPartitionLedger(string connectionString, string schema = "public") : IPartitionLedger
{
    public const string TableName = "vecmigrate_partition";

    public string Location { get; } = $"{PgConnections.Describe(connectionString)} table {schema}.{PgCheckpointStore.TableName}";

    internal static string Qualified(string schema) => $"{PgTablePlan.Quote(schema)}.{PgTablePlan.Quote(TableName)}";

    internal static string CreateSql(string schema) => $"""
        CREATE TABLE IF NOT EXISTS {Qualified(schema)} (
            name text NOT NULL,
            part integer NOT NULL,
            parts integer NOT NULL,
            part_name text NOT NULL UNIQUE,
            bounds text NOT NULL,
            holder text,
            lease_until timestamptz,
            PRIMARY KEY (name, part)
        )
        """;

    public async Task<PartitionedCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(conn, null, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PartitionedCheckpoint> CreateAsync(string name, string source, string target,
        IReadOnlyList<(string Bounds, string Source)> partitions, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Tables, the whole and its partitions in one transaction under the creators' lock: two workers starting at once
            // make one split, and a reader deciding under the same lock (ReadAsync) never sees half of one.
            await using (var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                await ExecAsync(conn, tx, LockSql, cancellationToken).ConfigureAwait(false);
                await ExecAsync(conn, tx, PgCheckpointStore.CreateSql(schema), cancellationToken).ConfigureAwait(false);
                await ExecAsync(conn, tx, CreateSql(schema), cancellationToken).ConfigureAwait(false);
                var ck = PgCheckpointStore.Qualified(schema);
                await using var whole = new NpgsqlCommand(
                    $"INSERT INTO {ck} (name, source, target, position, records, completed) VALUES (@n, @s, @t, NULL, 0, false) ON CONFLICT (name) DO NOTHING",
                    conn, tx);
                whole.Parameters.AddWithValue("n", name);
                whole.Parameters.AddWithValue("s", source);
                whole.Parameters.AddWithValue("t", target);
                if (await whole.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
                {
                    for (var i = 0; i < partitions.Count; i++)
                    {
                        var partName = PartitionNames.Of(name, i + 1, partitions.Count);
                        await using var part = new NpgsqlCommand(
                            $"INSERT INTO {Qualified(schema)} (name, part, parts, part_name, bounds) VALUES (@n, @i, @c, @pn, @b); " +
                            $"INSERT INTO {ck} (name, source, target, position, records, completed) VALUES (@pn, @s, @t, NULL, 0, false)",
                            conn, tx);
                        part.Parameters.AddWithValue("n", name);
                        part.Parameters.AddWithValue("i", i + 1);
                        part.Parameters.AddWithValue("c", partitions.Count);
                        part.Parameters.AddWithValue("pn", partName);
                        part.Parameters.AddWithValue("b", partitions[i].Bounds);
                        part.Parameters.AddWithValue("s", partitions[i].Source);
                        part.Parameters.AddWithValue("t", target);
                        await part.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException ex)
        {
            throw Failed(name, "create", ex);
        }
        return await ReadAsync(conn, null, name, cancellationToken).ConfigureAwait(false)
            ?? throw new VecMigrateException(FailureKind.NotFound, "MigrationCheckpointRemoved", $"Checkpoint '{name}' ({Location}) was removed as it was made.", name);
    }

    public async Task<bool> TryTakeAsync(string name, int partition, string holder, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Under READ COMMITTED a second taker waits for the first's row lock, then sees its holder and lease: only one wins.
        await using var cmd = new NpgsqlCommand($"""
            UPDATE {Qualified(schema)} p SET holder = @h, lease_until = clock_timestamp() + @l
            FROM {PgCheckpointStore.Qualified(schema)} c
            WHERE p.name = @n AND p.part = @i AND c.name = p.part_name AND NOT c.completed
              AND (p.holder IS NULL OR p.holder = @h OR p.lease_until IS NULL OR p.lease_until < clock_timestamp())
            """, conn);
        cmd.Parameters.AddWithValue("h", holder);
        cmd.Parameters.AddWithValue("l", lease);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("i", partition);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task ReleaseAsync(string name, int partition, string holder, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(
            $"UPDATE {Qualified(schema)} SET holder = NULL, lease_until = NULL WHERE name = @n AND part = @i AND holder = @h", conn);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("i", partition);
        cmd.Parameters.AddWithValue("h", holder);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryCompleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var ck = PgCheckpointStore.Qualified(schema);
        await using var cmd = new NpgsqlCommand($"""
            UPDATE {ck} w SET completed = true, updated_at = now(),
                records = (SELECT coalesce(sum(c.records), 0) FROM {Qualified(schema)} p JOIN {ck} c ON c.name = p.part_name WHERE p.name = @n)
            WHERE w.name = @n AND NOT w.completed
              AND NOT EXISTS (SELECT 1 FROM {Qualified(schema)} p JOIN {ck} c ON c.name = p.part_name WHERE p.name = @n AND NOT c.completed)
            """, conn);
        cmd.Parameters.AddWithValue("n", name);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// In a batch's own transaction: renews <paramref name="holder"/>'s lease on the partition whose checkpoint is
    /// <paramref name="partName"/>, or throws <see cref="PartitionedMigration.LeaseLostId"/> when another worker has
    /// it now (the caller rolls the batch back).
    /// </summary>
    internal static async Task FenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string schema, string partName, string holder, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            $"UPDATE {Qualified(schema)} SET lease_until = clock_timestamp() + @l WHERE part_name = @pn AND holder = @h", conn, tx);
        cmd.Parameters.AddWithValue("l", lease);
        cmd.Parameters.AddWithValue("pn", partName);
        cmd.Parameters.AddWithValue("h", holder);
        if (await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, PartitionedMigration.LeaseLostId,
                $"Partition {partName} is no longer held by {holder}: its lease ran out and another worker took it over, so this batch was not committed.", partName);
        }
    }

    /// <summary>The lock that makes a split's creation one step for readers: held by its creator, shared by a deciding reader.</summary>
    private const string LockSql = "SELECT pg_advisory_xact_lock(hashtext('vecmigrate_checkpoint'))";

    /// <summary>
    /// The split <paramref name="name"/>; null when there is none; throws <c>PartitionCheckpointNotSplit</c> for a plain
    /// checkpoint of that name. Finding no split is decided again under the creators' lock: read in several statements,
    /// a split committed between them would otherwise look like a plain checkpoint (the whole seen, its partitions not).
    /// </summary>
    private async Task<PartitionedCheckpoint?> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string name, CancellationToken ct)
    {
        var (split, plain) = await ReadOnceAsync(conn, tx, name, ct).ConfigureAwait(false);
        if (split is null && tx is null)
        {
            await using var locked = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
            await ExecAsync(conn, locked, LockSql.Replace("pg_advisory_xact_lock(", "pg_advisory_xact_lock_shared(", StringComparison.Ordinal), ct).ConfigureAwait(false);
            (split, plain) = await ReadOnceAsync(conn, locked, name, ct).ConfigureAwait(false);
            await locked.CommitAsync(ct).ConfigureAwait(false);
        }
        return split ?? (plain ? throw NotSplit(name) : null);
    }

    private async Task<(PartitionedCheckpoint? Split, bool Plain)> ReadOnceAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string name, CancellationToken ct)
    {
        if (!await PgCheckpointStore.TablesExistAsync(conn, tx, schema, ct, TableName, PgCheckpointStore.TableName).ConfigureAwait(false))
        {
            return (null, await PlainCheckpointAsync(conn, tx, name, ct).ConfigureAwait(false));
        }
        var ck = PgCheckpointStore.Qualified(schema);
        await using var cmd = new NpgsqlCommand($"""
            SELECT w.source, w.target, w.completed, p.part, p.parts, p.part_name, p.bounds, c.position, c.records, c.completed,
                   p.holder, p.lease_until, c.updated_at
            FROM {ck} w JOIN {Qualified(schema)} p ON p.name = w.name JOIN {ck} c ON c.name = p.part_name
            WHERE w.name = @n ORDER BY p.part
            """, conn, tx);
        cmd.Parameters.AddWithValue("n", name);
        string? source = null, target = null;
        var completed = false;
        var parts = new List<PartitionState>();
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                source = r.GetString(0);
                target = r.GetString(1);
                completed = r.GetBoolean(2);
                parts.Add(new PartitionState(r.GetInt32(3), r.GetInt32(4), r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
                    r.GetInt64(8), r.GetBoolean(9), r.IsDBNull(10) ? null : r.GetString(10),
                    r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11), r.GetFieldValue<DateTimeOffset>(12)));
            }
        }
        if (parts.Count == 0) return (null, await PlainCheckpointAsync(conn, tx, name, ct).ConfigureAwait(false));
        return (new PartitionedCheckpoint(name, source!, target!, completed, parts), false);
    }

    private async Task<bool> PlainCheckpointAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string name, CancellationToken ct)
    {
        if (!await PgCheckpointStore.TablesExistAsync(conn, tx, schema, ct, PgCheckpointStore.TableName).ConfigureAwait(false)) return false;
        await using var find = new NpgsqlCommand($"SELECT count(*) FROM {PgCheckpointStore.Qualified(schema)} WHERE name = @n", conn, tx);
        find.Parameters.AddWithValue("n", name);
        return (long)(await find.ExecuteScalarAsync(ct).ConfigureAwait(false))! > 0;
    }

    private VecMigrateException NotSplit(string name) => new(FailureKind.InvalidArgument, "PartitionCheckpointNotSplit",
        $"Checkpoint '{name}' ({Location}) was made by a copy that was not split into partitions; resume it without -Parallel or -Partition, " +
        "or remove it to start over split. Nothing was read or written.", name);

    private VecMigrateException Failed(string name, string what, PostgresException ex) => new(FailureKind.WriteFailed, "PgCheckpointFailed",
        $"Could not {what} the partitions of checkpoint '{name}' in {Location}: {ex.MessageText}", name, ex);

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private Task<NpgsqlConnection> OpenAsync(CancellationToken ct) => PgCheckpointStore.OpenAsync(connectionString, ct);
}
