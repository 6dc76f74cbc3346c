using Npgsql;

namespace VecMigrate.Engine.Postgres;

/// <summary>What a database holds, for tab completion of table names.</summary>
public static class PgCatalog
{
    /// <summary>
    /// The tables (plain and partitioned) of <paramref name="schema"/> that the connecting user can see, by name;
    /// VecMigrate's own checkpoint table is left out.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListTablesAsync(string connectionString, string schema = "public", CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(schema);
        await using var conn = PgDataSources.CreateConnection(connectionString);
        try
        {
            await conn.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw PgConnections.ConnectFailure(ex, PgConnections.Describe(connectionString), connectionString);
        }
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @s AND c.relkind IN ('r', 'p') AND c.relname <> @checkpoint AND NOT c.relispartition
            ORDER BY c.relname
            """, conn);
        cmd.Parameters.AddWithValue("s", schema);
        cmd.Parameters.AddWithValue("checkpoint", PgCheckpointStore.TableName);
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }
}
