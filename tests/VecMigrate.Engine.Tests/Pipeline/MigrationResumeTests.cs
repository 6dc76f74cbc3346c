using System.Runtime.CompilerServices;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>The runner with a source in memory and an idempotent sink in memory, checkpoints in files.</summary>
public sealed class MigrationResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vecmigrate-cp-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private static readonly SourceSchema Dim2 = new(SourceKind.Qdrant, "mem", IdKinds.Unsigned,
        [new VectorField("", VectorKind.Dense, 2, DistanceMetric.Cosine)], hasNamespaces: false, payloadName: "payload");

    private static List<VectorRecord> MakeRecords(int count) => Enumerable.Range(0, count).Select(i =>
        new VectorRecord((ulong)i, new Dictionary<string, VectorValue> { [""] = new DenseVector([i, -i]) }, JsonPayload.FromString($$"""{"i":{{i}}}"""))
        {
            Schema = Dim2,
            Position = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).ToList();

    /// <summary>A source over a list, resumable by index; counts what it yields and can fail on demand.</summary>
    private sealed class ListSource(IReadOnlyList<VectorRecord> records, string description = "List source")
    {
        public int Yielded;
        public int Starts;
        public readonly List<string?> StartedAfter = [];

        public TimeSpan DelayPerRecord { get; init; }

        /// <summary>Throw this once when this many records have been yielded in all.</summary>
        public (int At, Exception Error)? FailOnce { get; set; }

        public MigrationSource AsSource() => new(description, after => ReadAsync(after));

        private async IAsyncEnumerable<VectorRecord> ReadAsync(string? after, [EnumeratorCancellation] CancellationToken ct = default)
        {
            Starts++;
            StartedAfter.Add(after);
            var from = after is null ? 0 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture) + 1;
            for (var i = from; i < records.Count; i++)
            {
                if (DelayPerRecord > TimeSpan.Zero) await Task.Delay(DelayPerRecord, ct);
                else await Task.Yield();
                ct.ThrowIfCancellationRequested();
                if (FailOnce is { } f && Yielded == f.At)
                {
                    FailOnce = null;
                    throw f.Error;
                }
                Yielded++;
                yield return records[i];
            }
        }
    }

    private MigrationOptions Options(string? checkpoint = "cp1", bool resume = true, int maxReconnects = 5, TimeSpan? timeLimit = null) => new()
    {
        TimeLimit = timeLimit,
        Checkpoint = checkpoint,
        Resume = resume,
        CheckpointStore = new FileCheckpointStore(_dir),
        MaxReconnects = maxReconnects,
        ReconnectDelay = TimeSpan.FromMilliseconds(1),
    };

    [Fact]
    public async Task A_run_killed_part_way_resumes_after_the_last_acknowledged_batch_and_ends_exact()
    {
        var records = MakeRecords(1000);
        var source = new ListSource(records) { FailOnce = (437, new InvalidOperationException("killed")) };
        var sink = new MemorySink(batchSize: 100);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Migration.RunAsync(source.AsSource(), sink, Options()));
        var cp = await new FileCheckpointStore(_dir).GetAsync("cp1");
        Assert.NotNull(cp);
        Assert.Equal("399", cp.Position); // four batches acknowledged; the fifth was open
        Assert.Equal(400, cp.Records);
        Assert.False(cp.Completed);

        sink = new MemorySink(batchSize: 100) { Stored = sink.Stored }; // a new process, the same target
        var summary = await Migration.RunAsync(source.AsSource(), sink, Options());
        Assert.Equal("399", source.StartedAfter[^1]);
        Assert.Equal("399", summary.ResumedAfter);
        Assert.Equal(400, summary.RecordsBefore);
        Assert.Equal(600, summary.RecordsRead);
        Assert.Equal(600, summary.RecordsWritten);
        Assert.Equal(1000, summary.TotalRecords);
        RecordAssert.SameSet(records, sink.Stored.Values);
        // Read in all: the source once, plus what the killed run had read past its last acknowledgement.
        Assert.Equal(1000 + 37, source.Yielded);
        Assert.True((await new FileCheckpointStore(_dir).GetAsync("cp1"))!.Completed);
    }

    [Fact]
    public async Task A_time_limit_ends_the_run_with_what_was_read_committed_and_the_next_run_goes_on()
    {
        var records = MakeRecords(400);
        var sink = new MemorySink(50);
        var slices = 0;
        MigrationSummary slice;
        do
        {
            slices++;
            var source = new ListSource(records) { DelayPerRecord = TimeSpan.FromMilliseconds(2) };
            slice = await Migration.RunAsync(source.AsSource(), sink, Options(timeLimit: TimeSpan.FromMilliseconds(150)));
            var cp = (await new FileCheckpointStore(_dir).GetAsync("cp1"))!;
            Assert.Equal(sink.Stored.Count, cp.Records); // the open batch was committed before the run returned
            Assert.Equal(slice.Completed, cp.Completed);
            Assert.Equal(slice.TotalRecords, cp.Records);
        }
        while (!slice.Completed && slices < 50);
        Assert.True(slices > 1, "the time limit never stopped a run");
        Assert.True(slice.Completed);
        RecordAssert.SameSet(records, sink.Stored.Values);
        Assert.Equal(records.Count, sink.Writes);
    }

    [Fact]
    public async Task Resuming_a_completed_checkpoint_reads_nothing()
    {
        var source = new ListSource(MakeRecords(50));
        var sink = new MemorySink(10);
        await Migration.RunAsync(source.AsSource(), sink, Options());
        var again = await Migration.RunAsync(source.AsSource(), sink, Options());
        Assert.True(again.AlreadyComplete);
        Assert.Equal(0, again.RecordsRead);
        Assert.Equal(50, again.TotalRecords);
        Assert.Equal(1, source.Starts);
    }

    [Fact]
    public async Task An_existing_checkpoint_without_resume_is_refused_before_reading()
    {
        var source = new ListSource(MakeRecords(30)) { FailOnce = (15, new InvalidOperationException("killed")) };
        await Assert.ThrowsAsync<InvalidOperationException>(() => Migration.RunAsync(source.AsSource(), new MemorySink(10), Options()));
        var starts = source.Starts;
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(source.AsSource(), new MemorySink(10), Options(resume: false)));
        Assert.Equal("MigrationCheckpointExists", ex.ErrorId);
        Assert.Contains("10 records", ex.Message);
        Assert.Equal(starts, source.Starts);
    }

    [Theory]
    [InlineData("Other source", "Memory target")]
    [InlineData("List source", "Other target")]
    public async Task A_resume_against_another_source_or_target_is_refused_with_both_named(string sourceName, string targetName)
    {
        await Migration.RunAsync(new ListSource(MakeRecords(5)).AsSource(), new MemorySink(2), Options());
        var other = new ListSource(MakeRecords(5), sourceName);
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(other.AsSource(), new MemorySink(2, targetName), Options()));
        Assert.Equal("MigrationCheckpointMismatch", ex.ErrorId);
        Assert.Contains("List source → Memory target", ex.Message);
        Assert.Contains($"{sourceName} → {targetName}", ex.Message);
        Assert.Equal(0, other.Starts);
    }

    [Fact]
    public async Task A_first_run_with_resume_starts_from_the_beginning()
    {
        var records = MakeRecords(25);
        var sink = new MemorySink(10);
        var summary = await Migration.RunAsync(new ListSource(records).AsSource(), sink, Options(resume: true));
        Assert.Null(summary.ResumedAfter);
        Assert.Equal(25, summary.RecordsWritten);
        RecordAssert.SameSet(records, sink.Stored.Values);
    }

    [Fact]
    public async Task The_file_checkpoint_moves_only_after_the_sink_acknowledges()
    {
        var store = new FileCheckpointStore(_dir);
        var seen = new List<(long Written, string? Position)>();
        var sink = new MemorySink(7);
        var options = new MigrationOptions
        {
            Checkpoint = "cp1",
            Resume = true,
            CheckpointStore = store,
            Progress = p =>
            {
                var cp = store.GetAsync("cp1").GetAwaiter().GetResult()!;
                seen.Add((cp.Records, cp.Position));
                Assert.Equal(p.TotalRecords, cp.Records);
                Assert.Equal(sink.Stored.Count, cp.Records); // never ahead of the target
            },
        };
        await Migration.RunAsync(new ListSource(MakeRecords(30)).AsSource(), sink, options);
        Assert.Equal(new (long, string?)[] { (7, "6"), (14, "13"), (21, "20"), (28, "27"), (30, "29") }, seen);
    }

    [Fact]
    public async Task A_lost_target_connection_reconnects_and_replays_from_the_last_acknowledged_record()
    {
        var records = MakeRecords(500);
        var source = new ListSource(records);
        var sink = new MemorySink(50) { LoseConnectionAfterBatches = 3, FailingReopens = 2 };
        var summary = await Migration.RunAsync(source.AsSource(), sink, Options());
        Assert.Equal(1, summary.Reconnects);
        Assert.Equal(3, sink.Reopens + 2); // two reopens failed, the third took
        Assert.Equal(50, summary.RecordsReread);
        Assert.Equal(550, summary.RecordsRead);
        Assert.Equal(500, summary.RecordsWritten);
        Assert.Equal(new string?[] { null, "149" }, source.StartedAfter);
        RecordAssert.SameSet(records, sink.Stored.Values);
    }

    [Fact]
    public async Task A_lost_source_connection_reads_again_after_the_last_record_handed_to_the_sink()
    {
        var records = MakeRecords(300);
        var source = new ListSource(records) { FailOnce = (123, new VecMigrateException(FailureKind.Timeout, "ListTimeout", "The list took too long.")) };
        var sink = new MemorySink(100);
        var summary = await Migration.RunAsync(source.AsSource(), sink, Options(checkpoint: null, resume: false));
        Assert.Equal(new string?[] { null, "122" }, source.StartedAfter);
        Assert.Equal(300, summary.RecordsRead);
        Assert.Equal(0, summary.RecordsReread);
        Assert.Equal(300, sink.Writes); // the open batch went on: nothing written twice
        RecordAssert.SameSet(records, sink.Stored.Values);
    }

    [Fact]
    public async Task Reconnects_that_keep_failing_stop_the_run_with_a_clear_error_and_the_checkpoint_resumes_it()
    {
        var records = MakeRecords(200);
        var sink = new MemorySink(20) { LoseConnectionAfterBatches = 2, FailingReopens = 100 };
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(new ListSource(records).AsSource(), sink, Options(maxReconnects: 3)));
        Assert.Equal("MigrationInterrupted", ex.ErrorId);
        Assert.Equal(FailureKind.Unreachable, ex.Kind);
        Assert.Contains("after 3 reconnect(s)", ex.Message);
        Assert.Contains("Checkpoint 'cp1' records the 40 records", ex.Message);
        Assert.IsType<VecMigrateException>(ex.InnerException);

        sink.FailingReopens = 0;
        var summary = await Migration.RunAsync(new ListSource(records).AsSource(), sink, Options());
        Assert.Equal("39", summary.ResumedAfter);
        RecordAssert.SameSet(records, sink.Stored.Values);
    }

    [Fact]
    public async Task With_no_reconnects_allowed_the_first_lost_connection_stops_the_run()
    {
        var sink = new MemorySink(20) { LoseConnectionAfterBatches = 1 };
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(new ListSource(MakeRecords(100)).AsSource(), sink, Options(maxReconnects: 0)));
        Assert.Equal("MigrationInterrupted", ex.ErrorId);
        Assert.Equal(0, sink.Reopens);
    }

    [Fact]
    public async Task Refused_records_go_to_the_callback_and_the_run_goes_on_without_one_they_stop_it()
    {
        var records = MakeRecords(40);
        var refused = new List<RecordRejectedException>();
        var sink = new MemorySink(10) { Refuse = 17UL };
        var summary = await Migration.RunAsync(new ListSource(records).AsSource(), sink, new MigrationOptions { OnRejected = (e, _) => { refused.Add(e); return ValueTask.CompletedTask; } });
        Assert.Equal(1, summary.RecordsRejected);
        Assert.Equal(39, summary.RecordsWritten);
        Assert.Equal(17UL, Assert.Single(refused).Record.Id);

        var stop = await Assert.ThrowsAsync<RecordRejectedException>(() => Migration.RunAsync(new ListSource(records).AsSource(), new MemorySink(10) { Refuse = 3UL }));
        Assert.Equal("MemoryRecordRefused", stop.ErrorId);
    }

    [Fact]
    public async Task A_target_that_is_neither_transactional_nor_idempotent_cannot_take_a_file_checkpoint()
    {
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            Migration.RunAsync(new ListSource(MakeRecords(3)).AsSource(), new MemorySink(2, idempotent: false), Options()));
        Assert.Equal("MigrationCheckpointUnsupported", ex.ErrorId);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("name with space")]
    public async Task Checkpoint_names_that_are_not_plain_file_names_are_refused(string name)
    {
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
            Migration.RunAsync(new ListSource(MakeRecords(3)).AsSource(), new MemorySink(2), Options(checkpoint: name)));
        Assert.Equal("CheckpointNameInvalid", ex.ErrorId);
        Assert.False(Directory.Exists(_dir) && Directory.EnumerateFileSystemEntries(_dir).Any());
    }

    [Fact]
    public async Task The_file_store_saves_lists_and_removes_and_leaves_no_temporary_files()
    {
        var store = new FileCheckpointStore(_dir);
        var at = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
        await store.SaveAsync(new MigrationCheckpoint("b-2", "S", "T", null, 0, false, at));
        await store.SaveAsync(new MigrationCheckpoint("a.1", "S", "T", "p\"1\n", 5, false, at));
        await store.SaveAsync(new MigrationCheckpoint("a.1", "S", "T", "p2", 9, true, at));
        Assert.Equal(new MigrationCheckpoint("a.1", "S", "T", "p2", 9, true, at), await store.GetAsync("a.1"));
        Assert.Equal(new[] { "a.1", "b-2" }, (await store.ListAsync()).Select(c => c.Name));
        Assert.Equal(new[] { "a.1.json", "b-2.json" }, Directory.EnumerateFiles(_dir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        Assert.True(await store.RemoveAsync("a.1"));
        Assert.False(await store.RemoveAsync("a.1"));
        Assert.Null(await store.GetAsync("a.1"));
    }

    [Fact]
    public async Task A_damaged_checkpoint_file_is_reported_with_its_path_not_taken_as_empty()
    {
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(Path.Combine(_dir, "cp1.json"), "{\"version\":1,\"name\":\"cp1\",\"sou");
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => new FileCheckpointStore(_dir).GetAsync("cp1"));
        Assert.Equal("CheckpointUnreadable", ex.ErrorId);
        Assert.Contains("cp1.json", ex.Message);
    }

    [Fact]
    public void The_default_folder_follows_VECMIGRATE_STATE_DIR()
    {
        var before = Environment.GetEnvironmentVariable(FileCheckpointStore.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(FileCheckpointStore.DirectoryVariable, _dir);
            Assert.Equal(_dir, new FileCheckpointStore().Directory);
            Environment.SetEnvironmentVariable(FileCheckpointStore.DirectoryVariable, null);
            Assert.EndsWith(Path.Combine("vecmigrate", "checkpoints"), new FileCheckpointStore().Directory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FileCheckpointStore.DirectoryVariable, before);
        }
    }

    [Fact]
    public void Source_descriptions_name_what_is_read_and_hold_no_secret()
    {
        using var transport = new RestTransport();
        using var client = new QdrantClient(new Uri("https://admin:hunter2@q.example.com:6333/?api_key=k3y"), new ApiSecret("k3y-secret"), transport);
        var q = QdrantSource.AsMigrationSource(client, new QdrantReadOptions("docs") { FilterJson = """{"must":[{"key":"tenant","match":{"value":"acme"}}]}""" });
        Assert.StartsWith("Qdrant https://q.example.com:6333 collection 'docs' filter #", q.Description);
        var pg = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = "Host=db.example.com;Port=5433;Database=vec;Username=migrator;Password=hunter2", Table = "t", Where = "tenant = 'acme'" });
        Assert.StartsWith("Postgres db.example.com:5433/vec table public.t where #", pg.Description);
        foreach (var d in new[] { q.Description, pg.Description })
        {
            Assert.DoesNotContain("hunter2", d);
            Assert.DoesNotContain("k3y", d);
            Assert.DoesNotContain("admin", d);
            Assert.DoesNotContain("migrator", d);
            Assert.DoesNotContain("acme", d);
        }
        // Another filter is another source.
        Assert.NotEqual(q.Description, QdrantSource.AsMigrationSource(client, new QdrantReadOptions("docs") { FilterJson = "{}" }).Description);
    }
}
