using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>What <see cref="PgVectorSource"/> reads.</summary>
public sealed class PgReadOptions
{
    public string ConnectionString { get; init; } = "";
    public string Schema { get; init; } = "public";
    public required string Table { get; init; }

    /// <summary>The key column; null takes the primary key (id, or namespace + id for VecMigrate's Pinecone tables).</summary>
    public string? KeyColumn { get; init; }

    /// <summary>Vector columns to read; null finds every pgvector column in the catalog.</summary>
    public IReadOnlyList<string>? VectorColumns { get; init; }

    /// <summary>Columns that make the payload; null takes every other column (a jsonb payload/metadata column is merged in).</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>An SQL condition on the table's rows (trusted input: it is the caller's own SQL).</summary>
    public string? Where { get; init; }

    public const int DefaultPageSize = 1000;

    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>Resume after this position (a record's <see cref="VectorRecord.Position"/>).</summary>
    public string? StartAfter { get; init; }

    /// <summary>
    /// One partition's key range, as <see cref="PgVectorSource.SplitAsync"/> made it (JSON: keys after one position up to
    /// and including another); null reads the whole table.
    /// </summary>
    public string? Range { get; init; }

    /// <summary>
    /// The read's identity for checkpoints: host, port and database (never user or password, so that rotating
    /// credentials does not orphan a checkpoint), the table, and what narrows the read (a condition by digest).
    /// </summary>
    public string Describe()
    {
        var d = new StringBuilder($"Postgres {Server()} table {Schema}.{Table}");
        if (KeyColumn is { } key) d.Append(" key ").Append(key);
        if (VectorColumns is { } vectors) d.Append(" vectors ").Append(string.Join(",", vectors));
        if (Columns is { } columns) d.Append(" columns ").Append(string.Join(",", columns));
        if (!string.IsNullOrWhiteSpace(Where)) d.Append(" where #").Append(Pipeline.SourceIdentity.Digest(Where));
        if (Range is { } range) d.Append(" keys ").Append(PgKeyRange.Parse(range).Describe());
        return d.ToString();
    }

    /// <summary>host:port/database, with PG* environment defaults filled in.</summary>
    internal string Server()
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
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

    /// <summary>These options with <see cref="StartAfter"/> set to <paramref name="position"/> (every other option copied).</summary>
    public PgReadOptions WithStartAfter(string? position) => WithConnectionString(ConnectionString, position);

    /// <summary>These options with another connection string and start position (every other option copied).</summary>
    public PgReadOptions WithConnectionString(string connectionString, string? position = null) => new()
    {
        ConnectionString = connectionString, Schema = Schema, Table = Table, KeyColumn = KeyColumn, VectorColumns = VectorColumns,
        Columns = Columns, Where = Where, PageSize = PageSize, StartAfter = position, Range = Range,
    };

    /// <summary>These options narrowed to one partition's key range (every other option copied).</summary>
    public PgReadOptions WithRange(string? range) => new()
    {
        ConnectionString = ConnectionString, Schema = Schema, Table = Table, KeyColumn = KeyColumn, VectorColumns = VectorColumns,
        Columns = Columns, Where = Where, PageSize = PageSize, StartAfter = StartAfter, Range = range,
    };
}

/// <summary>
/// Reads a Postgres table with pgvector columns as records, with keyset pagination on the key (never
/// OFFSET), one page ahead, in binary. Tables VecMigrate wrote come back as the records that went in.
/// </summary>
public sealed class PgVectorSource
{
    private readonly PgReadOptions _options;
    private readonly ILogger _logger;
    private Layout? _searchLayout;

    public PgVectorSource(PgReadOptions options, ILogger? logger = null)
    {
        if (string.IsNullOrWhiteSpace(options.Table)) throw Invalid("A table name is required.");
        if (options.PageSize is < 1 or > 100_000) throw Invalid($"The page size must be between 1 and 100,000 (got {options.PageSize}).");
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// A Postgres table for a <see cref="Migration"/>, in key order. The description names host, port and database,
    /// never user or password; a connection lost while reading becomes <c>PgUnreachable</c>.
    /// </summary>
    public static MigrationSource AsMigrationSource(PgReadOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var server = options.Server();
        var searcher = new Lazy<PgVectorSource>(() => new PgVectorSource(options.WithStartAfter(null), logger));
        return new MigrationSource(options.Describe(), after => LossAsUnreachable(new PgVectorSource(options.WithStartAfter(after), logger).ReadAsync(), server))
        {
            EstimateCount = ct => new PgVectorSource(options.WithStartAfter(null), logger).EstimateCountAsync(ct),
            Split = (n, ct) => new PgVectorSource(options.WithStartAfter(null), logger).SplitAsync(n, ct),
            Narrow = range => AsMigrationSource(options.WithRange(PgKeyRange.Parse(range).ToString()), logger),
            Search = (query, ct) => searcher.Value.SearchAsync(query, ct),
            Fetch = (keys, ct) => new PgVectorSource(options.WithStartAfter(null), logger).FetchAsync(keys, ct),
        };
    }

    /// <summary>
    /// The <paramref name="query"/>'s nearest rows by pgvector's operator for its metric (<c>&lt;=&gt;</c> cosine distance,
    /// <c>&lt;#&gt;</c> negated inner product, <c>&lt;-&gt;</c> L2, <c>&lt;+&gt;</c> L1), scores turned into the common form
    /// (<see cref="VectorSearch"/>): 1 − distance, −(negated product), the distances as they are. Exact: the index
    /// scans are switched off for the query's transaction, so Postgres compares every row; otherwise the planner uses
    /// an HNSW or IVFFlat index where there is one (hnsw.ef_search raised to K, which it caps the answer at).
    /// -Where narrows the search as it narrows the read.
    /// </summary>
    public async Task<SearchAnswer> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // The table's layout once per source, not once per query (connections come from Npgsql's pool).
        var layout = _searchLayout ??= await LayoutAsync(conn, cancellationToken).ConfigureAwait(false);
        if (layout.RowLocations)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgSearchUnsupported",
                $"Table {Display} has no primary key, so its neighbours cannot be named to compare with another side's.", Display);
        }
        var v = layout.Vectors.FirstOrDefault(c => c.VectorName == query.Vector) ?? throw new VecMigrateException(FailureKind.InvalidArgument,
            "PgSearchVectorNotFound", $"Table {Display} has no vector column for the vector '{query.Vector}' (it has {string.Join(", ", layout.Vectors.Select(c => $"'{c.VectorName}'"))}).", Display);
        var column = "t." + PgTablePlan.Quote(v.Column);
        var (expression, parameter) = v.Storage switch
        {
            PgVectorStorage.Vector => (column, "@q::real[]::vector"),
            PgVectorStorage.HalfVec => (column, "@q::real[]::vector::halfvec"),
            PgVectorStorage.RealArray => (column + "::vector", "@q::real[]::vector"),
            _ => throw new VecMigrateException(FailureKind.InvalidArgument, "PgSearchUnsupported",
                $"Column {v.Column} of {Display} holds {(v.Storage == PgVectorStorage.SparseVec ? "sparse vectors" : "multivectors")}; search parity compares dense vectors only.", Display),
        };
        var metric = query.Metric == DistanceMetric.Unknown ? DistanceMetric.Cosine : query.Metric;
        var op = metric switch
        {
            DistanceMetric.Dot => "<#>",
            DistanceMetric.Euclid => "<->",
            DistanceMetric.Manhattan => "<+>",
            _ => "<=>",
        };
        var conditions = new List<string>();
        if (!string.IsNullOrWhiteSpace(_options.Where)) conditions.Add($"({_options.Where})");
        if (query.Namespace is { } ns)
        {
            if (layout.Namespace is { } nsKey) conditions.Add($"t.{PgTablePlan.Quote(nsKey.Column)} = @ns");
            else if (ns.Length > 0)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgSearchNoNamespace",
                    $"Table {Display} has no namespace column, so it cannot be searched within namespace '{ns}'.", Display);
            }
        }
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var keys = string.Join(", ", layout.Keys.Select(k => $"t.{PgTablePlan.Quote(k.Column)}::text"));
        var sql = $"SELECT {keys}, ({expression} {op} {parameter})::float8 FROM {QualifiedName} AS t{where} " +
                  $"ORDER BY {expression} {op} {parameter} LIMIT {query.TopK}";
        var hits = new List<SearchHit>(query.TopK);
        try
        {
            await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var settings = query.Exact
                ? "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off"
                : $"SET LOCAL hnsw.ef_search = {Math.Clamp(query.TopK, 40, 1000)}";
            await using (var set = new NpgsqlCommand(settings, conn, tx)) await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.AddWithValue("q", query.Values);
            if (layout.Namespace is not null && query.Namespace is not null) cmd.Parameters.AddWithValue("ns", query.Namespace);
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var keyTexts = new string[layout.Keys.Count];
                    for (var i = 0; i < keyTexts.Length; i++) keyTexts[i] = r.GetString(i);
                    var d = r.GetDouble(keyTexts.Length);
                    var record = new VectorRecord(IdOf(layout, keyTexts), new Dictionary<string, VectorValue>(), null)
                    {
                        Namespace = layout.Namespace is null ? null : keyTexts[layout.Keys.IndexOf(layout.Namespace)],
                        Schema = layout.Schema,
                    };
                    hits.Add(new SearchHit(record, metric switch
                    {
                        DistanceMetric.Cosine => 1 - d,
                        DistanceMetric.Dot => -d,
                        _ => d,
                    }));
                }
            }
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgSearchFailed", $"Searching {Display} failed: {ex.MessageText}", Display, ex);
        }
        return new SearchAnswer(metric, hits, $"pgvector {op}{(query.Exact ? " exact" : ", index where there is one")}");
    }

    /// <summary>
    /// Splits the table into <paramref name="count"/> key ranges that hold every row exactly once: the bounds are the
    /// keys at each n-th of the rows in key order (ntile over the key; over a sample of pages once the catalog
    /// counts more than a million rows, so that the split costs seconds, never a sort of the whole table). Ranges are
    /// (after, upTo]; the first has no lower bound and the last no upper one, so rows the sample missed, or that came
    /// later, still fall in exactly one. Never OFFSET.
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count < 1) throw Invalid($"A table is split into at least one partition (got {count}).");
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var layout = await LayoutAsync(conn, cancellationToken).ConfigureAwait(false);
        if (layout.RowLocations)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationSourceCannotSplit",
                $"Table {Display} has no primary key to split it by; copy it in one lane, or name a unique key column (-KeyColumn).", Display);
        }
        if (count == 1) return [new PgKeyRange(null, null).ToString()];
        var tuples = await ScalarAsync<double?>(conn, "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass(@t)", QualifiedName, cancellationToken)
            .ConfigureAwait(false) ?? -1;
        const double SampleRows = 200_000;
        var sample = tuples > 1_000_000
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" TABLESAMPLE SYSTEM ({Math.Max(0.001, 100 * SampleRows / tuples):0.######})")
            : "";
        var keyCols = layout.Keys.Select(k => PgTablePlan.Quote(k.Column)).ToList();
        var inner = string.Join(", ", keyCols.Select(k => "t." + k));
        var where = string.IsNullOrWhiteSpace(_options.Where) ? "" : $" WHERE ({_options.Where})";
        var sql = $"""
            SELECT DISTINCT ON (tile) {string.Join(", ", keyCols.Select(k => $"s.{k}::text"))}
            FROM (SELECT {inner}, ntile({count}) OVER (ORDER BY {inner}) AS tile FROM {QualifiedName} AS t{sample}{where}) s
            ORDER BY tile, {string.Join(", ", keyCols.Select(k => $"s.{k} DESC"))}
            """;
        var maxima = new List<string[]>();
        await using (var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 })
        {
            try
            {
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var keys = new string[layout.Keys.Count];
                    for (var i = 0; i < keys.Length; i++) keys[i] = r.GetString(i);
                    maxima.Add(keys);
                }
            }
            catch (PostgresException ex)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgReadFailed", $"Splitting {Display} into {count} key ranges failed: {ex.MessageText}", Display, ex);
            }
        }
        var ranges = new List<string>(count);
        if (maxima.Count == 0)
        {
            // An empty table (or sample): the first partition takes everything, the others nothing.
            ranges.Add(new PgKeyRange(null, null).ToString());
            while (ranges.Count < count) ranges.Add(PgKeyRange.Empty.ToString());
            return ranges;
        }
        // count - 1 upper bounds; with fewer rows than partitions the last one repeats, making empty ranges (b, b].
        var bounds = Enumerable.Range(0, count - 1).Select(i => maxima[Math.Min(i, maxima.Count - 1)]).ToList();
        for (var i = 0; i < count; i++)
        {
            ranges.Add(new PgKeyRange(i == 0 ? null : bounds[i - 1], i == count - 1 ? null : bounds[i]).ToString());
        }
        return ranges;
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

    private string Display => $"{_options.Schema}.{_options.Table}";

    private sealed record KeyPart(string Column, string TypeName);

    private sealed record VectorCol(string Column, string VectorName, PgVectorStorage Storage, int? Dimension, DistanceMetric Metric);

    /// <remarks>
    /// Id is the key column that is the record id; null for a composite key (the id is the key's values,
    /// <see cref="SourceSchema.KeyColumns"/>) and for a table without a key (RowLocations: read by ctid, Keys is the
    /// ctid alone, each record's id its row's location).
    /// </remarks>
    private sealed record Layout(List<KeyPart> Keys, KeyPart? Id, KeyPart? Namespace, IReadOnlyList<VectorCol> Vectors,
        string? PayloadExpression, SourceSchema Schema, bool QdrantIds, bool RowLocations = false);

    /// <summary>Describes the table as a source: its id kinds, vector columns and whether records have namespaces.</summary>
    public async Task<SourceSchema> DescribeAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await LayoutAsync(conn, cancellationToken).ConfigureAwait(false)).Schema;
    }

    public async IAsyncEnumerable<VectorRecord> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var layout = await LayoutAsync(conn, cancellationToken).ConfigureAwait(false);
        var origin = new RecordOrigin(SourceKind.Postgres, PgConnections.Describe(_options.ConnectionString), Display) { Read = _options.Describe() };
        var range = _options.Range is { } rangeText ? PgKeyRange.Parse(rangeText) : null;
        if (range is { IsEmpty: true }) yield break;
        CheckRange(range, layout.Keys.Count);
        // A partition starts after its lower bound; a resumed one after its checkpoint (always past that bound).
        var after = _options.StartAfter is not null ? ParsePosition(_options.StartAfter, layout.Keys.Count) : range?.After;
        if (layout.RowLocations)
        {
            await foreach (var r in ReadByLocationAsync(conn, layout, origin, after?[0], cancellationToken).ConfigureAwait(false)) yield return r;
            yield break;
        }
        var sql = BuildQuery(layout, first: after is null);

        // One page ahead: the next page is read while the caller works through this one.
        var pending = ReadPageAsync(conn, sql, layout, origin, after, cancellationToken);
        while (true)
        {
            var page = await pending.ConfigureAwait(false);
            if (page.Count == 0) yield break;
            var last = page[^1].Position!;
            var more = page.Count == _options.PageSize;
            pending = more
                ? ReadPageAsync(conn, BuildQuery(layout, first: false), layout, origin, ParsePosition(last, layout.Keys.Count), cancellationToken)
                : Task.FromResult(new List<VectorRecord>());
            foreach (var r in page) yield return r;
            if (!more)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The rows with these keys (ids and namespaces as this table's reads name them), found through the key's index:
    /// <c>(key columns) IN (SELECT … FROM unnest(…))</c>, each value cast to its column's type. Keys that are not there
    /// are simply not returned. -Where narrows it as it narrows the read. A table without a key has nothing to find by.
    /// </summary>
    public async IAsyncEnumerable<VectorRecord> FetchAsync(IReadOnlyList<VectorRecord> keys, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var layout = await LayoutAsync(conn, cancellationToken).ConfigureAwait(false);
        if (layout.RowLocations)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgFetchUnsupported", $"Table {Display} has no primary key to find rows by.", Display);
        }
        var values = layout.Keys.Select(_ => new List<string>(keys.Count)).ToList();
        foreach (var k in keys)
        {
            string[] row;
            if (layout.Id is { } id)
            {
                row = new string[layout.Keys.Count];
                row[layout.Keys.IndexOf(id)] = k.Id.Kind switch
                {
                    PointIdKind.Uuid => k.Id.AsUuid.ToString("D"),
                    _ => k.Id.ToString(),
                };
                if (layout.Namespace is { } ns) row[layout.Keys.IndexOf(ns)] = k.Namespace ?? "";
            }
            else
            {
                // A composite key's id is its values as a JSON array of text.
                try
                {
                    row = k.Id.Kind == PointIdKind.String ? JsonSerializer.Deserialize<string[]>(k.Id.AsString) ?? [] : [];
                }
                catch (JsonException)
                {
                    continue;
                }
                if (row.Length != layout.Keys.Count) continue;
            }
            for (var i = 0; i < row.Length; i++) values[i].Add(row[i]);
        }
        if (values[0].Count == 0) yield break;
        var keyList = string.Join(", ", layout.Keys.Select(k => "t." + PgTablePlan.Quote(k.Column)));
        var casts = string.Join(", ", layout.Keys.Select((k, i) => $"u.v{i}::{k.TypeName}"));
        var arrays = string.Join(", ", layout.Keys.Select((_, i) => $"@a{i}::text[]"));
        var names = string.Join(", ", layout.Keys.Select((_, i) => $"v{i}"));
        var where = string.IsNullOrWhiteSpace(_options.Where) ? "" : $" AND ({_options.Where})";
        var sql = $"SELECT {SelectList(layout)} FROM {QualifiedName} AS t WHERE ({keyList}) IN (SELECT {casts} FROM unnest({arrays}) AS u({names})){where}";
        var origin = new RecordOrigin(SourceKind.Postgres, PgConnections.Describe(_options.ConnectionString), Display) { Read = _options.Describe() };
        var page = await ReadPageAsync(conn, sql, layout, origin, null, cancellationToken, cmd =>
        {
            for (var i = 0; i < values.Count; i++) cmd.Parameters.AddWithValue($"a{i}", values[i].ToArray());
        }).ConfigureAwait(false);
        foreach (var r in page) yield return r;
    }

    /// <summary>
    /// A table without a key, in the order its rows sit: windows of heap blocks, each read in ctid order (a TID range
    /// scan and a sort of one window, never of the table), a page at a time within the window; the position is the
    /// last row's ctid, so a resumed read starts right after it. Blocks added after the read started are not read.
    /// </summary>
    private async IAsyncEnumerable<VectorRecord> ReadByLocationAsync(NpgsqlConnection conn, Layout layout, RecordOrigin origin, string? after,
        [EnumeratorCancellation] CancellationToken ct)
    {
        long blocks, window;
        await using (var size = new NpgsqlCommand(
            "SELECT pg_relation_size(to_regclass(@t)) / current_setting('block_size')::bigint, " +
            "(SELECT CASE WHEN relpages > 0 AND reltuples > 0 THEN reltuples / relpages END FROM pg_class WHERE oid = to_regclass(@t))::float8", conn))
        {
            size.Parameters.AddWithValue("t", QualifiedName);
            await using var r = await size.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            blocks = r.GetInt64(0);
            var rowsPerBlock = r.IsDBNull(1) ? 8 : Math.Max(1, r.GetDouble(1));
            window = Math.Max(1, (long)(_options.PageSize / rowsPerBlock));
        }
        var where = string.IsNullOrWhiteSpace(_options.Where) ? "" : $" AND ({_options.Where})";
        var sql = $"SELECT {SelectList(layout)} FROM {QualifiedName} AS t WHERE t.ctid > @k0::tid AND t.ctid < @e::tid{where} ORDER BY t.ctid LIMIT {_options.PageSize}";
        after ??= "(0,0)";
        var block = BlockOf(after);
        while (block < blocks)
        {
            var end = $"({block + window},0)";
            var page = await ReadPageAsync(conn, sql, layout, origin, [after], ct, cmd => cmd.Parameters.AddWithValue("e", end)).ConfigureAwait(false);
            foreach (var r in page) yield return r;
            if (page.Count == _options.PageSize)
            {
                after = JsonSerializer.Deserialize<string[]>(page[^1].Position!)![0];
                continue;
            }
            block += window;
            after = $"({block},0)"; // offsets start at 1: every row of the block on
        }
    }

    private long BlockOf(string ctid)
    {
        var comma = ctid.IndexOf(',', StringComparison.Ordinal);
        if (ctid.Length > 2 && ctid[0] == '(' && comma > 1 && long.TryParse(ctid.AsSpan(1, comma - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var b))
            return b;
        throw Invalid($"'{ctid}' is not a row location in {Display}.");
    }

    /// <summary>
    /// What every read of rows selects, in the order <see cref="ReadPageAsync"/> takes it: the key columns as text (the
    /// ctid for a table without a key), the vector columns as they are (Npgsql reads them in binary with Pgvector's
    /// converters, PgVectorTypes), the payload as JSON text.
    /// </summary>
    private static string SelectList(Layout layout)
    {
        var cols = new List<string>();
        cols.AddRange(layout.Keys.Select(k => $"t.{PgTablePlan.Quote(k.Column)}::text"));
        foreach (var v in layout.Vectors) cols.Add($"t.{PgTablePlan.Quote(v.Column)}");
        cols.Add(layout.PayloadExpression is null ? "NULL::text" : $"({layout.PayloadExpression})::text");
        return string.Join(", ", cols);
    }

    private string BuildQuery(Layout layout, bool first)
    {
        var keyList = string.Join(", ", layout.Keys.Select(k => "t." + PgTablePlan.Quote(k.Column)));
        var conditions = new List<string>();
        if (!first)
        {
            var ps = string.Join(", ", layout.Keys.Select((k, i) => $"@k{i}::{k.TypeName}"));
            conditions.Add(layout.Keys.Count == 1 ? $"{keyList} > {ps}" : $"({keyList}) > ({ps})");
        }
        if (_options.Range is { } rangeText && PgKeyRange.Parse(rangeText).UpTo is not null)
        {
            var us = string.Join(", ", layout.Keys.Select((k, i) => $"@u{i}::{k.TypeName}"));
            conditions.Add(layout.Keys.Count == 1 ? $"{keyList} <= {us}" : $"({keyList}) <= ({us})");
        }
        if (!string.IsNullOrWhiteSpace(_options.Where)) conditions.Add($"({_options.Where})");
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        return $"SELECT {SelectList(layout)} FROM {QualifiedName} AS t{where} ORDER BY {keyList} LIMIT {_options.PageSize}";
    }

    private async Task<List<VectorRecord>> ReadPageAsync(NpgsqlConnection conn, string sql, Layout layout, RecordOrigin origin, string[]? after, CancellationToken ct,
        Action<NpgsqlCommand>? bind = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        bind?.Invoke(cmd);
        if (after != null)
        {
            for (var i = 0; i < after.Length; i++) cmd.Parameters.AddWithValue($"k{i}", after[i]);
        }
        if (_options.Range is { } rangeText && PgKeyRange.Parse(rangeText).UpTo is { } upTo)
        {
            for (var i = 0; i < upTo.Length; i++) cmd.Parameters.AddWithValue($"u{i}", upTo[i]);
        }
        var page = new List<VectorRecord>(_options.PageSize);
        try
        {
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var keys = new string[layout.Keys.Count];
                for (var i = 0; i < keys.Length; i++) keys[i] = r.GetString(i);
                var col = keys.Length;
                var vectors = new Dictionary<string, VectorValue>(layout.Vectors.Count, StringComparer.Ordinal);
                foreach (var v in layout.Vectors)
                {
                    if (!r.IsDBNull(col)) vectors[v.VectorName] = Decode(v, r, col);
                    col++;
                }
                var payload = r.IsDBNull(col) ? null : new JsonPayload(Encoding.UTF8.GetBytes(r.GetString(col)));
                page.Add(new VectorRecord(IdOf(layout, keys), vectors, payload)
                {
                    Namespace = layout.Namespace is null ? null : keys[layout.Keys.IndexOf(layout.Namespace)],
                    Schema = layout.Schema,
                    Origin = origin,
                    Position = JsonSerializer.Serialize(keys),
                });
            }
        }
        catch (PostgresException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgReadFailed",
                $"Reading {Display} failed: {ex.MessageText}", Display, ex);
        }
        Log.PageRead(_logger, page.Count, Display);
        return page;
    }

    private static VectorValue Decode(VectorCol v, NpgsqlDataReader r, int col) => v.Storage switch
    {
        PgVectorStorage.Vector => new DenseVector(PgVectorTypes.Floats(r.GetFieldValue<Pgvector.Vector>(col))),
        PgVectorStorage.HalfVec => new DenseVector(PgVectorTypes.Floats(r.GetFieldValue<Pgvector.HalfVector>(col))),
        PgVectorStorage.SparseVec => PgVectorTypes.Sparse(r.GetFieldValue<Pgvector.SparseVector>(col)),
        PgVectorStorage.RealArray => new DenseVector(RealArray(r, col)),
        PgVectorStorage.HalfVecArray => new MultiVector(Rows(r.GetFieldValue<Pgvector.HalfVector?[]>(col), PgVectorTypes.Floats)),
        _ => new MultiVector(Rows(r.GetFieldValue<Pgvector.Vector?[]>(col), PgVectorTypes.Floats)),
    };

    private static float[] RealArray(NpgsqlDataReader r, int col)
    {
        try
        {
            return r.GetFieldValue<float[]>(col);
        }
        catch (InvalidCastException ex)
        {
            throw new FormatException("A real[] vector holds a NULL element or more than one dimension.", ex);
        }
    }

    private static float[][] Rows<T>(T?[] rows, Func<T, float[]> floats) where T : class
    {
        var result = new float[rows.Length][];
        for (var i = 0; i < rows.Length; i++)
            result[i] = floats(rows[i] ?? throw new FormatException("A multivector holds a NULL element."));
        return result;
    }

    /// <summary>The record id of a row whose key columns hold <paramref name="keys"/> (as text, in key order).</summary>
    private PointId IdOf(Layout layout, string[] keys) => layout.Id is { } id
        ? ParseId(layout, id, keys[layout.Keys.IndexOf(id)])
        : layout.RowLocations ? PointId.FromString(keys[0]) // "(block,offset)"
        : PointId.FromString(JsonSerializer.Serialize(keys)); // a composite key: its values, as the position spells them

    private PointId ParseId(Layout layout, KeyPart idKey, string text)
    {
        switch (idKey.TypeName)
        {
            case "uuid":
                return PointId.FromUuid(Guid.Parse(text));
            case "numeric" or "int8" or "int4" or "int2":
                if (ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) return PointId.FromUnsigned(n);
                throw new VecMigrateException(FailureKind.InvalidRecord, "PgIdNotUnsigned",
                    $"Row with {idKey.Column} = {text} in {Display}: record ids read from integer columns must be whole numbers from 0 to 18446744073709551615.", $"{Display}/{text}");
            default:
                if (layout.QdrantIds)
                {
                    if (PointId.TryParseQdrant(text, out var q)) return q;
                    throw new VecMigrateException(FailureKind.InvalidRecord, "PgIdNotQdrant",
                        $"Row with {idKey.Column} = '{text}' in {Display}: the table came from Qdrant, whose ids are unsigned integers or UUIDs.", $"{Display}/{text}");
                }
                return PointId.FromString(text);
        }
    }

    private void CheckRange(PgKeyRange? range, int keys)
    {
        if (range is null) return;
        if ((range.After is { } a && a.Length != keys) || (range.UpTo is { } u && u.Length != keys))
        {
            throw Invalid($"The key range {range} does not fit the key of {Display} ({keys} column(s)); the table's key changed since the split was made.");
        }
    }

    private static string[] ParsePosition(string position, int count)
    {
        try
        {
            var keys = JsonSerializer.Deserialize<string[]>(position);
            if (keys is { } k && k.Length == count) return k;
        }
        catch (JsonException)
        {
        }
        throw Invalid($"'{position}' is not a position in this table (expected a JSON array of {count} key value(s)).");
    }

    private async Task<Layout> LayoutAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var columns = await PgTableInspector.ReadColumnsAsync(conn, _options.Schema, _options.Table, ct).ConfigureAwait(false)
            ?? throw new VecMigrateException(FailureKind.NotFound, "PgTableNotFound", $"Table {Display} does not exist.", Display);
        var comment = PgTableComment.TryParse(await ScalarAsync<string?>(conn,
            "SELECT obj_description(to_regclass(@t), 'pg_class')", QualifiedName, ct).ConfigureAwait(false));

        // Key: given, else the primary key.
        List<string> keyNames;
        if (_options.KeyColumn is { } kc)
        {
            if (!columns.ContainsKey(kc)) throw Invalid($"Table {Display} has no column '{kc}'.");
            if (!await HasUniqueIndexAsync(conn, [kc], ct).ConfigureAwait(false))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgKeyNotUnique",
                    $"Column '{kc}' of {Display} has no unique index; keyset reading needs a unique key, or rows would be skipped.", Display);
            }
            keyNames = [kc];
        }
        else
        {
            keyNames = await PrimaryKeyAsync(conn, ct).ConfigureAwait(false);
        }
        // No key (Zilliz's guide: Auto ID on, rows get new ids): read in the order rows sit, by ctid, each record's id
        // its row's location. Only a target that makes ids of its own can take such records (Milvus Auto ID).
        var rowLocations = keyNames.Count == 0;
        var keys = rowLocations ? [new KeyPart("ctid", "tid")] : keyNames.Select(k => new KeyPart(k, columns[k].TypeName)).ToList();
        KeyPart? id = null;
        KeyPart? ns = null;
        if (rowLocations) id = null;
        else if (keys.Count == 1) id = keys[0];
        else if (keys.Count == 2 && keys.Any(k => k.Column == PgTablePlan.NamespaceColumnName))
        {
            ns = keys.Single(k => k.Column == PgTablePlan.NamespaceColumnName);
            id = keys.Single(k => k != ns);
        }
        // Else a composite key (Zilliz's guide: its columns become ordinary fields): read in key order as any key, each
        // record's id made of the key's values (["a","1"] as text), the key columns kept in the payload as well.
        if (id is not null && id.TypeName is not ("numeric" or "int8" or "int4" or "int2" or "uuid" or "text" or "varchar" or "bpchar"))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgKeyUnsupported",
                $"Key column '{id.Column}' of {Display} is of type {columns[id.Column].Formatted}; record ids can be integers, UUIDs or text.", Display);
        }

        // Vector columns: named, else every pgvector column.
        var vectorNames = _options.VectorColumns ?? columns.Values
            .Where(c => c.TypeName is "vector" or "halfvec" or "sparsevec" || c.ElementTypeName is "vector" or "halfvec")
            .Select(c => c.Name).ToList();
        var metrics = await IndexMetricsAsync(conn, ct).ConfigureAwait(false);
        var vectors = new List<VectorCol>();
        foreach (var name in vectorNames)
        {
            if (!columns.TryGetValue(name, out var c)) throw Invalid($"Table {Display} has no column '{name}'.");
            PgVectorStorage storage = (c.TypeName, c.ElementTypeName) switch
            {
                ("vector", _) => PgVectorStorage.Vector,
                ("halfvec", _) => PgVectorStorage.HalfVec,
                ("sparsevec", _) => PgVectorStorage.SparseVec,
                (_, "vector") => PgVectorStorage.VectorArray,
                (_, "halfvec") => PgVectorStorage.HalfVecArray,
                (_, "float4") => PgVectorStorage.RealArray,
                _ => throw Invalid($"Column '{name}' of {Display} is {c.Formatted}, not a vector column (vector, halfvec, sparsevec, vector[], halfvec[] or real[])."),
            };
            var fromComment = comment?.Vectors.TryGetValue(name, out var m) == true ? m : ((string, DistanceMetric)?)null;
            // The vector's name: as recorded when VecMigrate made the table; else a lone vector is the
            // unnamed one, and "embedding" (VecMigrate's column for it) is too.
            var vectorName = fromComment?.Item1
                ?? (vectorNames.Count == 1 || name == PgTablePlan.DefaultVectorColumnName ? VectorRecord.DefaultVectorName : name);
            var metric = fromComment is { Item2: not DistanceMetric.Unknown } f ? f.Item2 : metrics.GetValueOrDefault(name);
            vectors.Add(new VectorCol(name, vectorName, storage, c.TypeMod >= 0 && storage != PgVectorStorage.RealArray ? c.TypeMod : null, metric));
        }
        if (vectors.GroupBy(v => v.VectorName).FirstOrDefault(g => g.Count() > 1) is { } clash)
        {
            throw Invalid($"Columns {string.Join(", ", clash.Select(v => v.Column))} of {Display} would all be the unnamed vector; name the vector columns to read.");
        }

        // Payload: the named columns, else every other column; a jsonb payload/metadata column is the base object.
        var used = new HashSet<string>((id is null ? [] : keyNames).Concat(vectors.Select(v => v.Column)), StringComparer.Ordinal);
        string? payloadExpr;
        string payloadName = "payload";
        if (_options.Columns is { } chosen)
        {
            foreach (var c in chosen)
            {
                if (!columns.ContainsKey(c)) throw Invalid($"Table {Display} has no column '{c}'.");
            }
            payloadExpr = chosen.Count == 0 ? null
                : "jsonb_build_object(" + string.Join(", ", chosen.Select(c => $"{PgTablePlan.QuoteLiteral(c)}, t.{PgTablePlan.Quote(c)}")) + ")";
        }
        else
        {
            var baseCol = new[] { "payload", "metadata" }.FirstOrDefault(p => columns.TryGetValue(p, out var c) && c.TypeName == "jsonb" && !used.Contains(p));
            if (baseCol != null) payloadName = baseCol;
            var rest = columns.Keys.Where(c => !used.Contains(c) && c != baseCol).ToList();
            if (baseCol != null && rest.Count == 0) payloadExpr = $"t.{PgTablePlan.Quote(baseCol)}";
            else if (rest.Count == 0) payloadExpr = null;
            else
            {
                var others = "jsonb_build_object(" + string.Join(", ", rest.Select(c => $"{PgTablePlan.QuoteLiteral(c)}, t.{PgTablePlan.Quote(c)}")) + ")";
                payloadExpr = baseCol is null ? others : $"COALESCE(t.{PgTablePlan.Quote(baseCol)}, '{{}}'::jsonb) || {others}";
            }
        }

        var qdrantIds = comment?.Source == SourceKind.Qdrant;
        var idKinds = id?.TypeName switch
        {
            null => IdKinds.String,
            "uuid" => IdKinds.Uuid,
            "numeric" or "int8" or "int4" or "int2" => IdKinds.Unsigned,
            _ => qdrantIds ? comment!.IdKinds : IdKinds.String,
        };
        var schema = new SourceSchema(SourceKind.Postgres, Display, idKinds,
            vectors.Select(v => new VectorField(v.VectorName, v.Storage switch
            {
                PgVectorStorage.SparseVec => VectorKind.Sparse,
                PgVectorStorage.VectorArray or PgVectorStorage.HalfVecArray => VectorKind.Multi,
                _ => VectorKind.Dense,
            }, v.Storage == PgVectorStorage.SparseVec ? null : v.Dimension, v.Metric, v.Storage.ToString().ToLowerInvariant())).ToList(),
            hasNamespaces: ns != null, payloadName)
        {
            // The payload's columns with their types, for targets with typed fields (Milvus); null when the payload is
            // a jsonb payload/metadata column (free-form) or named columns are chosen.
            Fields = _options.Columns is null
                ? columns.Values.Where(c => !used.Contains(c.Name) && !(c.Name == payloadName && c.TypeName == "jsonb"))
                    .Select(c => new ScalarField(c.Name, c.TypeName, !c.NotNull, c.ElementTypeName)).ToList()
                : null,
            KeyColumns = id is null && !rowLocations ? keyNames : null,
            RowLocations = rowLocations,
        };
        return new Layout(keys, id, ns, vectors, payloadExpr, schema, qdrantIds, rowLocations);
    }

    /// <summary>
    /// How many rows a read yields, from the catalog's estimate (<c>pg_class.reltuples</c>, kept by VACUUM and ANALYZE;
    /// no table scan, for progress only); null where it does not count the read (a condition, a read that starts
    /// after a position) or the table was never analyzed.
    /// </summary>
    public async Task<long?> EstimateCountAsync(CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(_options.Where) || _options.StartAfter is not null) return null;
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var tuples = await ScalarAsync<double?>(conn, "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass(@t)", QualifiedName, cancellationToken)
            .ConfigureAwait(false);
        return tuples is >= 0 ? (long)Math.Round(tuples.Value) : null;
    }

    private string QualifiedName => $"{PgTablePlan.Quote(_options.Schema)}.{PgTablePlan.Quote(_options.Table)}";

    private async Task<List<string>> PrimaryKeyAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT a.attname FROM pg_index i
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = to_regclass(@t) AND i.indisprimary ORDER BY k.ord
            """, conn);
        cmd.Parameters.AddWithValue("t", QualifiedName);
        var result = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) result.Add(r.GetString(0));
        return result;
    }

    private async Task<bool> HasUniqueIndexAsync(NpgsqlConnection conn, string[] cols, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(@t) AND i.indisunique AND i.indpred IS NULL
              AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = @c)
            """, conn);
        cmd.Parameters.AddWithValue("t", QualifiedName);
        cmd.Parameters.AddWithValue("c", cols.Order(StringComparer.Ordinal).ToArray());
        return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    /// <summary>The metric each vector column's index serves, from its operator class (vector_cosine_ops → cosine).</summary>
    private async Task<Dictionary<string, DistanceMetric>> IndexMetricsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT a.attname, oc.opcname FROM pg_index i
            JOIN pg_opclass oc ON oc.oid = i.indclass[0]
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass(@t) AND i.indnatts = 1
            """, conn);
        cmd.Parameters.AddWithValue("t", QualifiedName);
        var result = new Dictionary<string, DistanceMetric>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var op = r.GetString(1);
            DistanceMetric? m = op.EndsWith("_cosine_ops", StringComparison.Ordinal) ? DistanceMetric.Cosine
                : op.EndsWith("_l2_ops", StringComparison.Ordinal) ? DistanceMetric.Euclid
                : op.EndsWith("_ip_ops", StringComparison.Ordinal) ? DistanceMetric.Dot
                : op.EndsWith("_l1_ops", StringComparison.Ordinal) ? DistanceMetric.Manhattan : null;
            if (m is { } metric) result[r.GetString(0)] = metric;
        }
        return result;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("t", table);
        var v = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return v is DBNull or null ? default! : (T)v;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = PgVectorTypes.CreateConnection(_options.ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            return conn;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw PgConnections.ConnectFailure(ex, PgConnections.Describe(_options.ConnectionString), _options.ConnectionString);
        }
    }

    private static VecMigrateException Invalid(string message) => new(FailureKind.InvalidArgument, "PgReadOptionsInvalid", message);
}

internal static partial class Log
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Read {Count} rows from {Table}")]
    public static partial void PageRead(ILogger logger, int count, string table);
}

/// <summary>
/// One partition of a Postgres table: the keys after <see cref="After"/> up to and including <see cref="UpTo"/> (each a
/// position: the key's values as text, in key order; null for no bound), or none at all. Stored with the checkpoint as
/// JSON, so every worker reads the same rows for the same partition.
/// </summary>
public sealed record PgKeyRange(string[]? After, string[]? UpTo, bool IsEmpty = false)
{
    public static readonly PgKeyRange Empty = new(null, null, true);

    private sealed record Stored(string[]? After, string[]? UpTo, bool Empty);

    public override string ToString() => JsonSerializer.Serialize(new Stored(After, UpTo, IsEmpty));

    /// <summary>For descriptions and messages: (after, upTo], "start" and "end" where there is no bound.</summary>
    public string Describe() => IsEmpty ? "none"
        : $"({(After is null ? "start" : Key(After))}, {(UpTo is null ? "end)" : Key(UpTo) + "]")}";

    private static string Key(string[] values) => values.Length == 1 ? values[0] : "(" + string.Join(", ", values) + ")";

    public static PgKeyRange Parse(string text)
    {
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(text);
            if (s is not null) return new PgKeyRange(s.After, s.UpTo, s.Empty);
        }
        catch (JsonException)
        {
        }
        throw new VecMigrateException(FailureKind.InvalidArgument, "PgRangeInvalid", $"'{text}' is not a key range of a Postgres table.", text);
    }
}
