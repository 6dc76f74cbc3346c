using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using Xunit.Abstractions;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// The resume promise, tested as a user would meet it: a migration of 50,000 points runs in a child process
/// (tests/VecMigrate.KillTest), is killed at random moments at least ten times, and is run again with resume until
/// it completes. After every kill the table holds exactly the source's first records, as many as the checkpoint
/// says; at the end exactly the source; and the source was re-read only in small tails.
/// </summary>
/// <remarks>Run alone with <c>dotnet test --filter FullyQualifiedName~KillTests</c>; VECMIGRATE_KILL_SEED repeats a run's kill moments.</remarks>
[Collection(PostgresCollection.Name)]
public sealed class KillTests(PostgresFixture pg, ITestOutputHelper output)
{
    private const int Points = 50_000;
    private const int Dimensions = 64;
    private const int BatchSize = 1_000;
    private const int PageSize = 500;
    private const int MinKills = 10;
    private const string Collection = "kill";
    private const string Table = "docs";

    [Fact]
    public async Task A_migration_killed_at_random_moments_and_resumed_ends_with_exactly_the_source_having_reread_only_small_tails()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("VECMIGRATE_KILL_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (VECMIGRATE_KILL_SEED={seed} repeats these kill moments)");
        var random = new Random(seed);
        await using var qdrant = await QdrantStandIn.StartAsync();
        var records = ResumeKit.SeedCollection(qdrant, Collection, Points, Dimensions, seed, integerShare: 0.5);
        var inOrder = qdrant.Points(Collection);
        var cs = await pg.NewDatabaseAsync();
        // Answers take a little while, as over a network, so that a run lasts long enough to be killed ten times.
        qdrant.Faults.Delay = TimeSpan.FromMilliseconds(25);

        var clock = Stopwatch.StartNew();
        var kills = 0;
        var runs = 0;
        long holds = 0;
        JsonElement? done = null;
        // Kill moments are random: now and then while the child starts up, else after a random number of its commits
        // (at most two thirds of what is left, so that ten kills fall all along the migration and none finishes it)
        // plus a random part of the time a batch takes: mid-read, mid-COPY, mid-commit.
        var startup = TimeSpan.FromMilliseconds(700);
        var perBatch = TimeSpan.FromMilliseconds(150);
        while (done is null)
        {
            runs++;
            Assert.True(runs <= MinKills + 5, "the migration did not finish");
            var servedBefore = qdrant.PointsServed;
            using var child = Child.Start(qdrant.BaseAddress, cs);
            if (kills < MinKills)
            {
                string moment;
                bool ended;
                if (random.NextDouble() < 0.15)
                {
                    var at = TimeSpan.FromMilliseconds(random.Next(20, (int)startup.TotalMilliseconds));
                    moment = $"{at.TotalMilliseconds:0} ms after start";
                    ended = await child.ExitsWithinAsync(at);
                }
                else
                {
                    var batchesLeft = (int)((Points - holds) / BatchSize);
                    var commits = random.Next(0, Math.Max(1, 2 * batchesLeft / (MinKills - kills + 2)));
                    var extra = TimeSpan.FromTicks((long)(random.NextDouble() * perBatch.Ticks));
                    moment = $"{extra.TotalMilliseconds:0} ms after commit {commits}";
                    ended = await child.ExitsAfterAsync(commits, extra);
                }
                if (!ended && child.Kill())
                {
                    kills++;
                    holds = await AssertTargetIsASourcePrefixAsync(cs, inOrder);
                    output.WriteLine($"run {runs}: killed {moment} ({child.Acks} commit(s) in this run); " +
                        $"the table holds {holds} records, exactly the source's first; {qdrant.PointsServed - servedBefore} points served to this run");
                    if (child.FirstAck is { } first) startup = first;
                    if (child.BatchTime is { } bt) perBatch = bt;
                    continue;
                }
            }
            else
            {
                Assert.True(await child.ExitsWithinAsync(TimeSpan.FromMinutes(2)), "the last run did not finish in 2 minutes");
            }
            // Done when the run said so (a kill that came as it was exiting does not undo that).
            done = child.Summary;
            Assert.True(done is not null, $"run {runs} failed ({child.ExitCode}): {child.Errors}");
            output.WriteLine($"run {runs}: completed: {done}");
        }
        clock.Stop();

        RecordAssert.SameSet(records, await ResumeKit.ReadTableAsync(cs, Table));
        var checkpoint = Assert.Single(await PgCheckpointStore.ListAsync(cs));
        Assert.True(checkpoint.Completed);
        Assert.Equal(Points, checkpoint.Records);
        var last = done.Value;
        // Into Postgres, a resumed run reads nothing the table holds: the last run read exactly what was missing.
        Assert.Equal(Points - last.GetProperty("RecordsBefore").GetInt64(), last.GetProperty("RecordsRead").GetInt64());

        // Re-read tail: what the stand-in served beyond the source, over all runs. Per run at most the open batch,
        // the page being read and the one fetched ahead (plus two one-point id-kind probes).
        var served = qdrant.PointsServed;
        var tail = served - Points;
        var bound = (long)runs * (BatchSize + 2 * PageSize + 2);
        output.WriteLine($"{runs} runs, {kills} kills, {clock.Elapsed.TotalSeconds:0.0} s; {served} points served for {Points}: " +
            $"re-read tail {tail} ({100.0 * tail / Points:0.0}% of the source, {tail / Math.Max(1, kills)} a kill; bound {bound})");
        Assert.True(kills >= MinKills, $"only {kills} kills");
        Assert.True(tail <= bound, $"re-read {tail} points, more than {bound}");
    }

    /// <summary>The checkpoint and the table agree, and the table holds exactly the source's first records (none twice, none changed).</summary>
    private static async Task<long> AssertTargetIsASourcePrefixAsync(string cs, IReadOnlyList<VectorRecord> inOrder)
    {
        // A killed client's server backend finishes the command it was given (a COMMIT can still land after the
        // kill), so wait until the killed run's session is gone before comparing checkpoint and table.
        await WaitForOtherSessionsToEndAsync(cs);
        var checkpoint = (await PgCheckpointStore.ListAsync(cs)).SingleOrDefault();
        if ((await Postgres.PgReadBack.ColumnsAsync(cs, Table)).Count == 0)
        {
            Assert.Null(checkpoint); // killed before the table was made
            return 0;
        }
        var back = await ResumeKit.ReadTableAsync(cs, Table);
        var holds = checkpoint?.Records ?? 0;
        Assert.Equal(holds, back.Count);
        RecordAssert.SameSet(inOrder.Take((int)holds), back);
        if (holds > 0) Assert.Equal(QdrantSource.PositionOf(inOrder[(int)holds - 1].Id), checkpoint!.Position);
        return holds;
    }

    private static async Task WaitForOtherSessionsToEndAsync(string cs)
    {
        await using var c = new Npgsql.NpgsqlConnection(cs);
        await c.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()", c);
            if ((long)(await cmd.ExecuteScalarAsync())! == 0) return;
            Assert.True(DateTime.UtcNow < deadline, "the killed run's database session did not end within 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>One run of tests/VecMigrate.KillTest, its output collected as it comes.</summary>
    private sealed class Child : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _errors = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _acks;
        private long _firstAckTicks = -1;
        private long _lastAckTicks = -1;
        private string? _done;

        private Child(Process process)
        {
            _process = process;
        }

        public int Acks => Volatile.Read(ref _acks);

        /// <summary>The mean time between commits, once there were two.</summary>
        public TimeSpan? BatchTime => Acks >= 2 ? TimeSpan.FromTicks((Interlocked.Read(ref _lastAckTicks) - Interlocked.Read(ref _firstAckTicks)) / (Acks - 1)) : null;

        /// <summary>How long after its start the run committed its first batch; null when it did not.</summary>
        public TimeSpan? FirstAck => Interlocked.Read(ref _firstAckTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

        public int ExitCode => _process.ExitCode;

        public string Errors => string.Join("\n", _errors);

        public JsonElement? Summary => _done is null ? null : JsonDocument.Parse(_done).RootElement.Clone();

        public static Child Start(Uri qdrant, string cs)
        {
            var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add(ProgramPath());
            foreach (var a in new[]
            {
                "--qdrant", qdrant.ToString(), "--collection", Collection, "--pg", cs, "--table", Table, "--checkpoint", "kill-test",
                "--batch", BatchSize.ToString(CultureInfo.InvariantCulture), "--page", PageSize.ToString(CultureInfo.InvariantCulture),
            })
            {
                psi.ArgumentList.Add(a);
            }
            var process = new Process { StartInfo = psi };
            var child = new Child(process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                if (e.Data.StartsWith("ack ", StringComparison.Ordinal))
                {
                    var now = child._clock.Elapsed.Ticks;
                    Interlocked.Exchange(ref child._lastAckTicks, now);
                    if (Interlocked.Increment(ref child._acks) == 1) Interlocked.Exchange(ref child._firstAckTicks, now);
                }
                else if (e.Data.StartsWith("done ", StringComparison.Ordinal)) child._done = e.Data["done ".Length..];
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null) child._errors.Enqueue(e.Data);
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return child;
        }

        /// <summary>tests/VecMigrate.KillTest/bin/CONFIG/TFM/VecMigrate.KillTest.dll, beside this assembly's own output.</summary>
        private static string ProgramPath()
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(here.Parent!.Parent!.Parent!.Parent!.FullName, "VecMigrate.KillTest", "bin", here.Parent.Name, here.Name, "VecMigrate.KillTest.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build tests/VecMigrate.KillTest first: {path} is missing.", path);
        }

        public async Task<bool> ExitsWithinAsync(TimeSpan time)
        {
            using var cts = new CancellationTokenSource(time);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Waits for <paramref name="commits"/> commits, then <paramref name="extra"/>; true when the process ended meanwhile.</summary>
        public async Task<bool> ExitsAfterAsync(int commits, TimeSpan extra)
        {
            var deadline = Stopwatch.StartNew();
            while (Acks < commits)
            {
                if (_process.HasExited) return true;
                if (deadline.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException($"the child made {Acks} of {commits} commits in a minute: {Errors}");
                await Task.Delay(2);
            }
            return await ExitsWithinAsync(extra);
        }

        /// <summary>Kills the process (SIGKILL: no finally, no dispose); false when it had just ended by itself.</summary>
        public bool Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            return _done is null;
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }
}
