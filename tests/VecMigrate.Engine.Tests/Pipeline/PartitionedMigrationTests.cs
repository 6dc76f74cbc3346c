using Npgsql;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Postgres;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// Migrations split into partitions, Postgres to Postgres (real server): every split covers the table exactly once,
/// lanes and workers copy each partition once, a killed run resumes to an exact table, and a worker that lost its
/// lease cannot commit.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PartitionedMigrationTests(PostgresFixture pg, Xunit.Abstractions.ITestOutputHelper output)
{
    private static Task ExecAsync(string cs, string sql) => PgWriteModesTests.ExecAsync(cs, sql);

    private static Task<T> ScalarAsync<T>(string cs, string sql) => PgWriteModesTests.ScalarAsync<T>(cs, sql);

    /// <summary>A source table of <paramref name="rows"/> rows whose keys are skewed: most small and dense, the rest far apart and huge.</summary>
    private async Task<string> SourceAsync(int rows)
    {
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, $"""
            CREATE TABLE src (id bigint PRIMARY KEY, embedding vector(3), title text);
            INSERT INTO src SELECT CASE WHEN g % 10 = 0 THEN 1000000000000 + g * 7919 ELSE g END,
                                   ARRAY[g, g / 3.0, -g]::vector, 'doc ' || g
            FROM generate_series(1, {rows}) g;
            ANALYZE src;
            """);
        return cs;
    }

    private static PgVectorWriter Sink(string cs, PgWriteMode mode = PgWriteMode.Append, int batch = 100) =>
        new(new PgWriteOptions { ConnectionString = cs, Table = "dst", Mode = mode, BatchSize = batch });

    private static MigrationSource Source(string cs, string table = "src", int page = 200) =>
        PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = cs, Table = table, PageSize = page });

    /// <summary>Rows of src missing from dst, in dst but not src, or different in vector or title.</summary>
    private static Task<long> DifferencesAsync(string cs) => ScalarAsync<long>(cs, """
        SELECT count(*) FROM src s FULL JOIN dst d ON s.id::text = d.id::text
        WHERE s.id IS NULL OR d.id IS NULL OR s.embedding <> d.embedding
           OR coalesce(to_jsonb(d)->>'title', to_jsonb(d)->'payload'->>'title') IS DISTINCT FROM s.title
        """);

    private static Task<MigrationSummary> RunAsync(string cs, int lanes, string? holder = null, PartitionSelector? partition = null, TimeSpan? lease = null,
        bool resume = true, CancellationToken ct = default, int batch = 100) =>
        PartitionedMigration.RunAsync(Source(cs), () => Sink(cs, batch: batch), new PgPartitionLedger(cs), new PartitionedMigrationOptions
        {
            Checkpoint = "big", Resume = resume, Lanes = lanes, Partition = partition, Holder = holder ?? PartitionNames.NewHolder(),
            Lease = lease ?? PartitionedMigrationOptions.DefaultLease, ReconnectDelay = TimeSpan.FromMilliseconds(50),
        }, cancellationToken: ct);

    // ------------------------------------------------------------------ the split

    public static TheoryData<string, int, int> Splits => new()
    {
        { "dense", 0, 4 }, { "dense", 1, 4 }, { "dense", 3, 8 }, { "dense", 57, 5 }, { "skewed", 1000, 3 }, { "skewed", 2000, 7 },
        { "text", 300, 4 }, { "namespaced", 400, 6 }, { "sampled", 3000, 5 }, { "dense", 10, 1 },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Every_split_reads_each_row_exactly_once(string keys, int rows, int partitions)
    {
        var cs = await pg.NewDatabaseAsync();
        var rng = new Random(rows * 31 + partitions);
        string table = "s";
        switch (keys)
        {
            case "text":
                // Mixed case, punctuation and non-ASCII: the bounds must sort as the reader does (the column's collation).
                await ExecAsync(cs, "CREATE TABLE s (id text PRIMARY KEY, embedding vector(2))");
                var words = Enumerable.Range(0, rows).Select(i => $"{"aBz_Ä-é".ElementAt(rng.Next(7))}{rng.Next(100000)}-{i}").ToList();
                await InsertTextAsync(cs, words);
                break;
            case "namespaced":
                await ExecAsync(cs, $"""
                    CREATE TABLE s (namespace text, id text, embedding vector(2), PRIMARY KEY (namespace, id));
                    INSERT INTO s SELECT 'ns' || (g % 3), 'v' || g, ARRAY[g, 1]::vector FROM generate_series(1, {rows}) g;
                    """);
                break;
            default:
                var ids = keys == "skewed"
                    ? Enumerable.Range(0, rows).Select(i => i % 50 == 0 ? (long)rng.NextInt64(1, long.MaxValue) : i).Distinct()
                    : Enumerable.Range(1, rows).Select(i => (long)i);
                await ExecAsync(cs, "CREATE TABLE s (id bigint PRIMARY KEY, embedding vector(2))");
                await ExecAsync(cs, $"INSERT INTO s SELECT x, ARRAY[1, 2]::vector FROM unnest(ARRAY[{string.Join(",", ids.Append(-1).Skip(rows == 0 ? 1 : 0).Where(x => x >= 0))}]::bigint[]) x");
                if (keys == "sampled")
                {
                    // The catalog says many millions: the split samples pages instead of reading every key.
                    await ExecAsync(cs, "ANALYZE s; UPDATE pg_class SET reltuples = 50000000 WHERE oid = 's'::regclass");
                }
                break;
        }
        var total = await ScalarAsync<long>(cs, "SELECT count(*) FROM s");
        var source = Source(cs, table, page: 7);
        var ranges = await source.Split!(partitions, default);
        Assert.Equal(partitions, ranges.Count);

        var seen = new List<string>();
        foreach (var range in ranges)
        {
            var part = source.Narrow!(range);
            await foreach (var r in part.Read(null)) seen.Add(r.Namespace + "/" + r.Id);
        }
        Assert.Equal(total, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        if (keys is "dense" or "skewed" && rows >= partitions * 10)
        {
            // Without sampling the split is by row count: no partition holds more than its share and a bit.
            var sizes = new List<int>();
            foreach (var range in ranges)
            {
                var n = 0;
                await foreach (var _ in source.Narrow!(range).Read(null)) n++;
                sizes.Add(n);
            }
            Assert.True(sizes.Max() <= total / partitions + 1, $"sizes {string.Join(",", sizes)}");
        }
    }

    private static async Task InsertTextAsync(string cs, List<string> words)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("INSERT INTO s SELECT x, ARRAY[1, 2]::vector FROM unnest(@w) x", conn);
        cmd.Parameters.AddWithValue("w", words.ToArray());
        await cmd.ExecuteNonQueryAsync();
    }

    // ------------------------------------------------------------------ copying

    [Fact]
    public async Task Four_lanes_copy_the_table_exactly_and_a_finished_copy_resumes_to_nothing()
    {
        var cs = await SourceAsync(5000);
        var summary = await RunAsync(cs, lanes: 4);
        Assert.True(summary.Completed);
        Assert.Equal(4, summary.PartitionCount);
        Assert.Equal(4, summary.PartitionsCompleted);
        Assert.Equal(5000, summary.RecordsWritten);
        Assert.Equal(4, summary.Parts!.Count);
        Assert.Equal(0, await DifferencesAsync(cs));

        var again = await RunAsync(cs, lanes: 4);
        Assert.True(again.AlreadyComplete);
        Assert.Equal(0, again.RecordsWritten);
        Assert.Equal(5000, again.TotalRecords);
        Assert.True(await ScalarAsync<bool>(cs, "SELECT completed FROM vecmigrate_checkpoint WHERE name = 'big'"));
        Assert.Equal(5000, await ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'big'"));
    }

    [Fact]
    public async Task A_split_being_made_is_waited_for_not_taken_for_a_plain_checkpoint_or_none()
    {
        var cs = await pg.NewDatabaseAsync();
        var ledger = new PgPartitionLedger(cs);
        await ledger.CreateAsync("other", "s", "t", [("b", "s")]); // the tables exist, as they do once any split was made
        // Another worker half way through making split 'big': under the creators' lock, the whole written, its partitions not yet.
        await using var creator = new NpgsqlConnection(cs);
        await creator.OpenAsync();
        await using var tx = await creator.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('vecmigrate_checkpoint')); " +
            "INSERT INTO vecmigrate_checkpoint (name, source, target, position, records, completed) VALUES ('big', 's', 't', NULL, 0, false)", creator, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        var reading = ledger.GetAsync("big");
        // It waits for the creator (a reader without the lock answered "none" here, or "not split" a moment later).
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(1)));
        Assert.False(reading.IsCompleted, $"answered ({reading.Status}: {reading.Exception?.InnerException?.Message ?? "a split or none"}) before the split was committed");
        await using (var cmd = new NpgsqlCommand("INSERT INTO vecmigrate_partition (name, part, parts, part_name, bounds) VALUES ('big', 1, 1, 'big#1/1', 'b'); " +
            "INSERT INTO vecmigrate_checkpoint (name, source, target, position, records, completed) VALUES ('big#1/1', 's', 't', NULL, 0, false)", creator, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        var split = await reading;
        Assert.NotNull(split); // the reader decided under the lock: after the commit, the whole split
        Assert.Equal("big#1/1", Assert.Single(split!.Partitions).Name);
    }

    [Fact]
    public async Task A_split_whose_tables_are_made_with_it_is_seen_by_a_reader_that_waited_for_it()
    {
        // The first split of a database creates the partition table in its own transaction. A reader that looked
        // before (no such table), then waited on the creators' lock inside a transaction, must not answer from the
        // catalog as it was when that transaction began: it took the committed split for a plain checkpoint once
        // (help example Copy-VectorData #5 in CI, and 1 run in 40 of four ForEach-Object -Parallel workers).
        var cs = await pg.NewDatabaseAsync();
        await ExecAsync(cs, PgCheckpointStore.CreateSql("public")); // a plain checkpoint table is there; the partition table is not
        var ledger = new PgPartitionLedger(cs);
        await using var creator = new NpgsqlConnection(cs);
        await creator.OpenAsync();
        await using var tx = await creator.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('vecmigrate_checkpoint'))", creator, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        var reading = ledger.GetAsync("big"); // looks (no partition table), then waits on the lock in a transaction
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(1)));
        Assert.False(reading.IsCompleted, "answered before the split was committed");
        await using (var cmd = new NpgsqlCommand(PgPartitionLedger.CreateSql("public") + "; " +
            "INSERT INTO vecmigrate_checkpoint (name, source, target, position, records, completed) VALUES ('big', 's', 't', NULL, 0, false), ('big#1/1', 's', 't', NULL, 0, false); " +
            "INSERT INTO vecmigrate_partition (name, part, parts, part_name, bounds) VALUES ('big', 1, 1, 'big#1/1', 'b')", creator, tx))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        var split = await reading;
        Assert.NotNull(split);
        Assert.Equal("big#1/1", Assert.Single(split!.Partitions).Name);
    }

    [Fact]
    public async Task Lanes_killed_at_random_then_resumed_leave_the_table_exact()
    {
        var cs = await SourceAsync(20000);
        var rng = new Random(7);
        MigrationSummary? last = null;
        var kills = 0;
        for (var run = 0; run < 80 && last is not { Completed: true }; run++)
        {
            using var kill = Cancellation.After(TimeSpan.FromMilliseconds(rng.Next(50, 700))); // not CancelAfter: see Cancellation
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                last = await RunAsync(cs, lanes: 4, ct: kill.Token, batch: 50);
                output.WriteLine($"run {run}: {sw.ElapsedMilliseconds} ms completed={last.Completed} written={last.RecordsWritten} parts={last.PartitionsCompleted}");
            }
            catch (OperationCanceledException)
            {
                kills++;
                output.WriteLine($"run {run}: killed after {sw.ElapsedMilliseconds} ms; rows {await CommittedAsync(cs)}");
            }
            catch (VecMigrateException ex) when (ex.InnerException is OperationCanceledException || kill.IsCancellationRequested)
            {
                kills++;
            }
        }
        Assert.True(kills >= 3, $"only {kills} run(s) were killed part way");
        Assert.NotNull(last);
        Assert.True(last!.Completed);
        Assert.Equal(0, await DifferencesAsync(cs));
        Assert.Equal(20000, await ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'big'"));
    }

    private static async Task<long> CommittedAsync(string cs)
    {
        try
        {
            return await ScalarAsync<long>(cs, "SELECT coalesce(sum(records), 0)::bigint FROM vecmigrate_checkpoint WHERE name LIKE 'big#%'");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // killed before the split was made
        }
    }

    [Fact]
    public async Task Two_workers_on_one_checkpoint_never_write_the_same_partition()
    {
        var cs = await SourceAsync(4000);
        // Append: a record written twice would fail its batch on the primary key.
        var a = RunAsync(cs, lanes: 3, holder: "worker-a");
        var b = RunAsync(cs, lanes: 3, holder: "worker-b");
        var results = await Task.WhenAll(a, b);
        Assert.Equal(0, await DifferencesAsync(cs));
        var partsA = results[0].Parts!.Select(p => p.Checkpoint).ToHashSet();
        var partsB = results[1].Parts!.Select(p => p.Checkpoint).ToHashSet();
        Assert.Empty(partsA.Intersect(partsB));
        Assert.Equal(4000, results[0].RecordsWritten + results[1].RecordsWritten);
    }

    [Fact]
    public async Task Workers_each_given_a_partition_add_up_and_a_wrong_count_is_refused()
    {
        var cs = await SourceAsync(2000);
        var first = await RunAsync(cs, lanes: 1, partition: new PartitionSelector(1, 4));
        Assert.True(first.Completed);
        Assert.Equal(1, first.PartitionsCompleted);

        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(cs, lanes: 1, partition: new PartitionSelector(2, 3)));
        Assert.Equal("PartitionSplitMismatch", ex.ErrorId);
        Assert.Contains("split into 4 partitions", ex.Message);

        var rest = await Task.WhenAll(Enumerable.Range(2, 3).Select(i => RunAsync(cs, lanes: 1, partition: new PartitionSelector(i, 4))));
        Assert.All(rest, s => Assert.True(s.Completed));
        Assert.Equal(2000, first.RecordsWritten + rest.Sum(s => s.RecordsWritten));
        Assert.Equal(0, await DifferencesAsync(cs));
        Assert.True(await ScalarAsync<bool>(cs, "SELECT completed FROM vecmigrate_checkpoint WHERE name = 'big'"));
    }

    [Fact]
    public async Task A_dead_workers_partitions_wait_for_its_lease_then_go_to_the_next_worker()
    {
        var cs = await SourceAsync(1500);
        var ledger = new PgPartitionLedger(cs);
        // A worker made the split, took every partition, and died without writing or giving them up.
        await RunAsync(cs, lanes: 1, partition: new PartitionSelector(1, 3), holder: "dead", lease: TimeSpan.FromSeconds(2));
        Assert.True(await ledger.TryTakeAsync("big", 2, "dead", TimeSpan.FromSeconds(2)));
        Assert.True(await ledger.TryTakeAsync("big", 3, "dead", TimeSpan.FromSeconds(2)));

        var early = await RunAsync(cs, lanes: 2, holder: "next");
        Assert.False(early.Completed);
        Assert.Equal(0, early.RecordsWritten);
        var held = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(cs, lanes: 1, partition: new PartitionSelector(2, 3), holder: "next"));
        Assert.Equal("PartitionHeld", held.ErrorId);
        Assert.Contains("dead", held.Message);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var late = await RunAsync(cs, lanes: 2, holder: "next");
        Assert.True(late.Completed);
        Assert.Equal(0, await DifferencesAsync(cs));
    }

    [Fact]
    public async Task A_batch_of_a_lane_whose_lease_went_to_another_worker_is_rolled_back()
    {
        var cs = await SourceAsync(10);
        var ledger = new PgPartitionLedger(cs);
        var source = Source(cs);
        var ranges = await source.Split!(2, default);
        await ledger.CreateAsync("big", source.Description, "public.dst", ranges.Select(r => (r, source.Narrow!(r).Description)).ToList());
        Assert.True(await ledger.TryTakeAsync("big", 1, "slow", TimeSpan.FromMinutes(5)));
        // Its lease ran out and another worker took the partition over.
        await ExecAsync(cs, "UPDATE vecmigrate_partition SET lease_until = now() - interval '1 second' WHERE part = 1");
        Assert.True(await ledger.TryTakeAsync("big", 1, "fast", TimeSpan.FromMinutes(5)));
        Assert.False(await ledger.TryTakeAsync("big", 1, "slow", TimeSpan.FromMinutes(5)));

        IRecordSink sink = Sink(cs, batch: 2);
        await using (sink)
        {
            Assert.True(sink.AttachLease("slow", TimeSpan.FromMinutes(5)));
            sink.AttachCheckpoint(PartitionNames.Of("big", 1, 2), source.Narrow!(ranges[0]).Description, resume: true);
            var ex = await Assert.ThrowsAsync<VecMigrateException>(async () =>
            {
                await foreach (var r in source.Narrow!(ranges[0]).Read(null)) await sink.WriteAsync(r, default);
            });
            Assert.True(PartitionedMigration.IsLeaseLost(ex), ex.ToString());
        }
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM dst"));
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT records FROM vecmigrate_checkpoint WHERE name = 'big#1/2'"));
    }

    [Fact]
    public async Task A_split_checkpoint_is_not_resumed_as_one_and_a_plain_one_not_as_split()
    {
        var cs = await SourceAsync(300);
        await RunAsync(cs, lanes: 2, partition: new PartitionSelector(1, 2));
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(Source(cs), Sink(cs),
            new MigrationOptions { Checkpoint = "big", Resume = true }));
        Assert.Equal("MigrationCheckpointSplit", ex.ErrorId);

        var plain = await SourceAsync(50);
        await Migration.RunAsync(Source(plain), Sink(plain), new MigrationOptions { Checkpoint = "big", Resume = true });
        var notSplit = await Assert.ThrowsAsync<VecMigrateException>(() => RunAsync(plain, lanes: 2));
        Assert.Equal("PartitionCheckpointNotSplit", notSplit.ErrorId);

        // Removing the whole removes its partitions; one partition alone cannot be removed.
        var one = await Assert.ThrowsAsync<VecMigrateException>(() => PgCheckpointStore.RemoveAsync(cs, "big#1/2"));
        Assert.Equal("PartitionRemoveWhole", one.ErrorId);
        Assert.True(await PgCheckpointStore.RemoveAsync(cs, "big"));
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM vecmigrate_checkpoint"));
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM vecmigrate_partition"));
    }

    [Fact]
    public async Task The_checkpoint_list_shows_the_whole_with_its_partitions_and_their_holders()
    {
        var cs = await SourceAsync(400);
        await RunAsync(cs, lanes: 1, partition: new PartitionSelector(2, 3), holder: "host:1:abc");
        var list = await PgCheckpointStore.ListAsync(cs);
        Assert.Equal(["big", "big#1/3", "big#2/3", "big#3/3"], list.Select(c => c.Name));
        var whole = list[0];
        Assert.Equal(3, whole.Partitions);
        Assert.False(whole.Completed);
        Assert.Equal(list[2].Records, whole.Records);
        Assert.True(list[2].Completed);
        Assert.Equal("host:1:abc", list[2].Holder);
        Assert.Null(list[1].Holder);
    }

    // ------------------------------------------------------------------ other sources

    [Fact]
    public async Task A_Pinecone_index_splits_by_namespace_and_copies_exactly_in_lanes()
    {
        await using var kit = await Pinecone.PineconeTestKit.StartAsync(checkContracts: true);
        var index = await kit.StandIn.CreateIndexAsync("tenants", 2);
        // Namespaces of very different sizes: the split balances them by count, whole namespaces to each part.
        var sizes = new Dictionary<string, int> { [""] = 40, ["a"] = 300, ["b"] = 120, ["c"] = 110, ["d"] = 5 };
        foreach (var (ns, n) in sizes)
        {
            for (var i = 0; i < n; i++) index.Seed(ns, $"{ns}-{i}", [i, 1]);
        }
        var source = kit.Source("tenants").AsMigrationSource();
        var parts = await source.Split!(3, default);
        var namespaces = parts.Select(p => System.Text.Json.JsonSerializer.Deserialize<List<string>>(p)!).ToList();
        Assert.Equal(sizes.Keys.Order(), namespaces.SelectMany(n => n).Order());
        Assert.Equal(["a"], namespaces[0]); // the largest alone; the rest balanced around it
        Assert.True(namespaces.Max(n => n.Sum(x => sizes[x])) <= 300);

        var cs = await pg.NewDatabaseAsync();
        var summary = await PartitionedMigration.RunAsync(source, () => Sink(cs, batch: 50), new PgPartitionLedger(cs),
            new PartitionedMigrationOptions { Checkpoint = "tenants", Lanes = 3 });
        Assert.True(summary.Completed);
        Assert.Equal(sizes.Values.Sum(), summary.RecordsWritten);
        Assert.Equal(sizes.Values.Sum(), await ScalarAsync<long>(cs, "SELECT count(*) FROM dst"));
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM dst WHERE id NOT LIKE namespace || '-%'"));
        kit.AssertConforms(10);

        // Fewer namespaces than partitions: the rest are empty, and complete as soon as they run.
        var many = await source.Split!(8, default);
        Assert.Equal(3, many.Count(p => p == "[]"));
    }

    [Fact]
    public async Task A_source_that_cannot_split_and_a_target_that_cannot_fence_are_refused_before_anything_is_written()
    {
        var cs = await SourceAsync(10);
        var once = MigrationSource.Once("records in memory", AsyncEnumerable.Empty<VectorRecord>());
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => PartitionedMigration.RunAsync(once, () => Sink(cs), new PgPartitionLedger(cs),
            new PartitionedMigrationOptions { Checkpoint = "x", Lanes = 2 }));
        Assert.Equal("MigrationSourceCannotSplit", ex.ErrorId);

        var replace = await Assert.ThrowsAsync<VecMigrateException>(() => PartitionedMigration.RunAsync(Source(cs), () => Sink(cs, PgWriteMode.Replace),
            new PgPartitionLedger(cs), new PartitionedMigrationOptions { Checkpoint = "x", Lanes = 2 }));
        Assert.Equal("MigrationTargetCannotSplit", replace.ErrorId);
        Assert.Equal(0, await ScalarAsync<long>(cs, "SELECT count(*) FROM pg_tables WHERE tablename IN ('dst', 'vecmigrate_partition')"));
    }
}
