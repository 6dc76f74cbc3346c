using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Npgsql;
using VecMigrate.Benchmark;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
return options.EngineOnly ? await EngineRun.RunAsync(options) : await Bench.RunAsync(options);

namespace VecMigrate.Benchmark
{
    /// <summary>One measured run.</summary>
    internal sealed record Run(int Dims, string Table, string Case, long Records, double Seconds, long CopyBytes,
        long? PeakRss, double ClientCpu, double StandInCpu, double PgCpu, string Load)
    {
        public double RecordsPerSecond => Records / Seconds;
        public double MegabytesPerSecond => CopyBytes / 1e6 / Seconds;
    }

    /// <summary>The parent: Postgres, the stand-in, the data, and the cases in turn.</summary>
    internal static class Bench
    {
        private const string Psql = "/usr/bin/psql";

        public static async Task<int> RunAsync(Options o)
        {
            Console.WriteLine($"VecMigrate benchmark: {o.Points:N0} points × [{string.Join(", ", o.Dims)}] dims, tables [{string.Join(", ", o.Tables)}], " +
                $"cases [{string.Join(", ", o.Cases)}], best of {o.Repeat}; page {o.PageSize}, prefetch {o.Prefetch}, batch {o.BatchSize}");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GB, .NET {Environment.Version}, load {ProcStats.LoadAverage()}");

            var why = "";
            var wantsPwsh = o.Cases.Contains("c") || o.Cases.Contains("cg") || o.Cases.Contains("cv");
            var pwsh = wantsPwsh ? FindPwsh(o, out why) : null;
            if (wantsPwsh && pwsh is null) Console.WriteLine($"(c) skipped: {why}");

            await using var pg = await PostgresServer.StartAsync();
            var cs = await pg.CreateDatabaseAsync("bench");
            var postmaster = await PostmasterPidAsync(cs);
            await using var qdrant = await QdrantStandIn.StartAsync();
            qdrant.PreRender = true;
            Console.WriteLine($"postgres: {await ScalarAsync(cs, "SELECT version()")}, pgvector {await ScalarAsync(cs, "SELECT extversion FROM pg_extension WHERE extname = 'vector'")}; port {pg.Port}");
            Console.WriteLine($"qdrant stand-in: {qdrant.BaseAddress}, gRPC {qdrant.GrpcBaseAddress} (pre-rendered vectors)");

            var runs = new List<Run>();
            var temp = Path.Combine(Path.GetTempPath(), "vecmigrate-bench-" + Environment.ProcessId);
            Directory.CreateDirectory(temp);
            try
            {
                foreach (var dims in o.Dims)
                {
                    var collection = $"bench_{dims}";
                    var setup = Stopwatch.StartNew();
                    var data = new BenchData(o.Points, dims, o.Distinct);
                    qdrant.CreateCollection(collection, new QdrantStandInVector("", dims, "Cosine"));
                    qdrant.Seed(collection, data.Records());
                    var copyFile = Path.Combine(temp, $"rows_{dims}.bin");
                    // The COPY file is (a)'s input and, for the others, the measure of the data (MB/s).
                    var copyBytes = o.Cases.Contains("a") ? data.WriteCopyFile(copyFile) : data.CopySize();
                    string[] halves = [Path.Combine(temp, $"rows_{dims}_1.bin"), Path.Combine(temp, $"rows_{dims}_2.bin")];
                    if (o.Cases.Contains("a2"))
                    {
                        data.WriteCopyFile(halves[0], 1, (ulong)o.Points / 2);
                        data.WriteCopyFile(halves[1], (ulong)o.Points / 2 + 1, (ulong)o.Points);
                    }
                    // The lanes cases: the rows split into L files for (al); the same rows as a Postgres table for (p).
                    var laneFiles = new Dictionary<int, string[]>();
                    if (o.Cases.Contains("al"))
                    {
                        foreach (var l in o.Lanes)
                        {
                            laneFiles[l] = Enumerable.Range(0, l).Select(i => Path.Combine(temp, $"rows_{dims}_{l}_{i}.bin")).ToArray();
                            for (var i = 0; i < l; i++)
                            {
                                data.WriteCopyFile(laneFiles[l][i], (ulong)(o.Points * i / l) + 1, (ulong)(o.Points * (i + 1) / l));
                            }
                        }
                    }
                    if (o.Cases.Contains("p") || o.Cases.Contains("m"))
                    {
                        if (!File.Exists(copyFile)) data.WriteCopyFile(copyFile);
                        await ExecAsync(cs, $"DROP TABLE IF EXISTS {SourceTableName}");
                        var sourceSchema = new SourceSchema(SourceKind.Qdrant, $"bench_{dims}", IdKinds.Unsigned,
                            [new VectorField("", VectorKind.Dense, dims, DistanceMetric.Cosine)], hasNamespaces: false, payloadName: "payload");
                        foreach (var ddl in PgTablePlan.ForSchema("public", SourceTableName, sourceSchema, null, null).Ddl) await ExecAsync(cs, ddl);
                        await CopyWithPsqlAsync(pg, copyFile, SourceTableName);
                        await ExecAsync(cs, $"VACUUM ANALYZE {SourceTableName}");
                    }
                    Console.WriteLine($"\n{dims} dims: {o.Points:N0} points ({data.Distinct:N0} distinct vectors, payload ~{BenchData.PayloadOf((ulong)o.Points / 2).Length} B), " +
                        $"COPY data {copyBytes / 1e6:0} MB; set up in {setup.Elapsed.TotalSeconds:0} s; parent RSS {ProcStats.Rss() / 1e6:0} MB");
                    var schema = new SourceSchema(SourceKind.Qdrant, collection, IdKinds.Unsigned,
                        [new VectorField("", VectorKind.Dense, dims, DistanceMetric.Cosine)], hasNamespaces: false, payloadName: "payload");

                    foreach (var table in o.Tables)
                    {
                        for (var rep = 0; rep < o.Repeat; rep++)
                        {
                            if (o.Cases.Contains("a"))
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "a", copyBytes, schema, o.Stage, () => CopyWithPsqlAsync(pg, copyFile)), o.Points));
                            if (o.Cases.Contains("a2"))
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "a2", copyBytes, schema, o.Stage, () => CopyInParallelAsync(pg, halves)), o.Points));
                            foreach (var l in o.Cases.Contains("al") ? o.Lanes : [])
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, $"al{l}", copyBytes, schema, o.Stage, () => CopyInParallelAsync(pg, laneFiles[l])), o.Points));
                            foreach (var l in o.Cases.Contains("p") ? o.Lanes : [])
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, $"p{l}", copyBytes, schema, o.Stage, () => LanesAsync(o, cs, l)), o.Points));
                            if (o.Cases.Contains("b"))
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "b", copyBytes, schema, o.Stage, () => EngineAsync(o, qdrant, collection, cs, dims)), o.Points));
                            if (o.Cases.Contains("g"))
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "g", copyBytes, schema, o.Stage, () => EngineAsync(o, qdrant, collection, cs, dims, grpc: true)), o.Points));
                            if (o.Cases.Contains("c") && pwsh is not null)
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "c", copyBytes, schema, o.Stage, () => PwshAsync(pwsh.Value, o, qdrant, collection, cs, grpc: false)), o.Points));
                            if (o.Cases.Contains("cg") && pwsh is not null)
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "cg", copyBytes, schema, o.Stage, () => PwshAsync(pwsh.Value, o, qdrant, collection, cs, grpc: true)), o.Points));
                            if (o.Cases.Contains("cv") && pwsh is not null)
                                runs.Add(Report(await MeasureAsync(cs, postmaster, dims, table, "cv", copyBytes, schema, o.Stage, () => PwshAsync(pwsh.Value, o, qdrant, collection, cs, grpc: false, copy: true)), o.Points));
                        }
                    }
                    if (o.Cases.Contains("v")) await CheckCaseAsync(o, qdrant, collection, cs, schema, dims);
                    if (o.Cases.Contains("m")) await MilvusCaseAsync(o, cs, dims);
                    qdrant.DropCollection(collection);
                    foreach (var f in halves.Append(copyFile).Concat(laneFiles.Values.SelectMany(f => f))) if (File.Exists(f)) File.Delete(f);
                    if (o.Cases.Contains("p") || o.Cases.Contains("m")) await ExecAsync(cs, $"DROP TABLE IF EXISTS {SourceTableName}");
                    GC.Collect();
                }
            }
            finally
            {
                Directory.Delete(temp, recursive: true);
            }
            PrintTable(runs);
            return 0;
        }

        private const string TableName = "bench_t";

        /// <summary>The source table of case (p): the same rows as the COPY file.</summary>
        private const string SourceTableName = "bench_src";

        /// <summary>A fresh table of the engine's own shape, a checkpoint, then the load, with CPU and memory around it.</summary>
        private static async Task<Run> MeasureAsync(string cs, int postmaster, int dims, string table, string name, long copyBytes, SourceSchema schema,
            string? stage, Func<Task<(double Seconds, long? PeakRss, double ClientCpu, long Records)>> load)
        {
            await ExecAsync(cs, $"DROP TABLE IF EXISTS {TableName}");
            var plan = PgTablePlan.ForSchema("public", TableName, schema, null, null);
            foreach (var ddl in plan.Ddl)
            {
                await ExecAsync(cs, table == "unlogged" && ddl.StartsWith("CREATE TABLE ", StringComparison.Ordinal) ? "CREATE UNLOGGED TABLE " + ddl["CREATE TABLE ".Length..] : ddl);
            }
            await ExecAsync(cs, "CHECKPOINT");
            NpgsqlConnection.ClearAllPools();
            var load0 = ProcStats.LoadAverage();
            var parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var pgCpu = ProcStats.TreeCpuSeconds(postmaster);
            var (seconds, peak, clientCpu, records) = await load();
            NpgsqlConnection.ClearAllPools();
            await ProcStats.WaitForNoClientBackendsAsync(postmaster, TimeSpan.FromSeconds(10)); // so their CPU time is counted
            await Task.Delay(200); // an exiting backend may have lost its title before it shows as a zombie
            pgCpu = ProcStats.TreeCpuSeconds(postmaster) - pgCpu;
            parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - parentCpu;
            var rows = Convert.ToInt64(await ScalarAsync(cs, $"SELECT count(*) FROM {TableName}"), CultureInfo.InvariantCulture);
            if (name is "b" or "g" && stage is "read" or "fetch" or "parse") rows = records; // nothing was written: count what was read
            await ExecAsync(cs, $"DROP TABLE {TableName}");
            return new Run(dims, table, name, rows, seconds, copyBytes, peak, clientCpu, name is "a" or "a2" || name.StartsWith("al", StringComparison.Ordinal) ? 0 : parentCpu, pgCpu, load0);
        }

        private static Run Report(Run r, long expected)
        {
            Console.WriteLine(
                $"  {r.Dims} {r.Table,-8} ({r.Case}) {r.Records,9:N0} rows in {r.Seconds,6:0.00} s = {r.RecordsPerSecond,7:N0} rec/s {r.MegabytesPerSecond,6:0.0} MB/s" +
                $"  cpu s: client {r.ClientCpu:0.0} stand-in {r.StandInCpu:0.0} postgres {r.PgCpu:0.0}" +
                (r.PeakRss is { } p ? $"  peak RSS {p / 1e6:0} MB" : "") + $"  (load {r.Load})");
            if (r.Records != expected) throw new InvalidOperationException($"Case ({r.Case}) left {r.Records} rows, not {expected}.");
            return r;
        }

        private static async Task<(double, long?, double, long)> CopyWithPsqlAsync(PostgresServer pg, string file, string table = TableName)
        {
            var psi = new ProcessStartInfo(Psql)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            string[] args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", pg.Port.ToString(CultureInfo.InvariantCulture),
                "-U", "postgres", "-d", "bench", "-c", $"\\copy {table} FROM '{file}' WITH (FORMAT binary)"];
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            var children = ProcStats.EndedChildrenCpuSeconds();
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            var seconds = sw.Elapsed.TotalSeconds;
            if (p.ExitCode != 0) throw new InvalidOperationException($"psql failed: {await err}");
            return (seconds, null, ProcStats.EndedChildrenCpuSeconds() - children, 0);
        }

        private static async Task<(double, long?, double, long)> CopyInParallelAsync(PostgresServer pg, string[] files)
        {
            var sw = Stopwatch.StartNew();
            var results = await Task.WhenAll(files.Select(f => CopyWithPsqlAsync(pg, f)));
            return (sw.Elapsed.TotalSeconds, null, results.Max(r => r.Item3), 0); // each saw both end
        }

        /// <summary>Case (p) in a process of its own: the source table into the table in <paramref name="lanes"/> lanes.</summary>
        private static async Task<(double, long?, double, long)> LanesAsync(Options o, string cs, int lanes)
        {
            var (file, prefix) = Self();
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in prefix.Concat(["--engine-only", "--stage", "lanes", "--lanes", lanes.ToString(CultureInfo.InvariantCulture),
                         "--connection-string", o.ConnectionExtra is null ? cs : cs + ";" + o.ConnectionExtra, "--table", TableName, "--source-table", SourceTableName,
                         "--batch-size", o.BatchSize.ToString(CultureInfo.InvariantCulture), "--points", o.Points.ToString(CultureInfo.InvariantCulture)]))
                psi.ArgumentList.Add(a);
            return await ChildAsync(psi);
        }

        /// <summary>Runs this program as a child (an engine case alone in its process) and reads its RESULT line.</summary>
        private static async Task<(double, long?, double, long)> ChildAsync(ProcessStartInfo psi, string? echo = null)
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            var result = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
            if (echo is not null)
            {
                foreach (var line in output.Split('\n').Where(l => l.StartsWith(echo, StringComparison.Ordinal))) Console.WriteLine("      " + line.TrimEnd());
            }
            if (p.ExitCode != 0 || result is null) throw new InvalidOperationException($"The engine run failed ({p.ExitCode}): {output}{await err}");
            var fields = result["RESULT ".Length..].Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
            Console.WriteLine($"      engine: {long.Parse(fields["allocated"], CultureInfo.InvariantCulture) / 1e6:0} MB allocated, {fields["gc0"]} gen0 / {fields["gc2"]} gen2 collections");
            return (double.Parse(fields["seconds"], CultureInfo.InvariantCulture), long.Parse(fields["peak_rss"], CultureInfo.InvariantCulture),
                double.Parse(fields["cpu"], CultureInfo.InvariantCulture), long.Parse(fields["records"], CultureInfo.InvariantCulture));
        }

        /// <summary>
        /// Case (v): a copy by the engine (not measured), then Test-VectorMigration's engine proving it in a process
        /// of its own: time, client CPU and peak memory of reading and digesting both sides at once.
        /// </summary>
        private static async Task CheckCaseAsync(Options o, QdrantStandIn qdrant, string collection, string cs, SourceSchema schema, int dims)
        {
            await ExecAsync(cs, $"DROP TABLE IF EXISTS {TableName}");
            foreach (var ddl in PgTablePlan.ForSchema("public", TableName, schema, null, null).Ddl) await ExecAsync(cs, ddl);
            var (copySeconds, _, _, _) = await EngineAsync(o, qdrant, collection, cs, dims);
            await ExecAsync(cs, $"VACUUM ANALYZE {TableName}");
            var (file, prefix) = Self();
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in prefix.Concat(["--engine-only", "--stage", "check", "--url", qdrant.BaseAddress.ToString(), "--collection", collection,
                         "--connection-string", cs, "--table", TableName, "--page-size", o.PageSize.ToString(CultureInfo.InvariantCulture),
                         "--prefetch", o.Prefetch.ToString(CultureInfo.InvariantCulture), "--search-queries", o.SearchQueries.ToString(CultureInfo.InvariantCulture)]))
                psi.ArgumentList.Add(a);
            var parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var (seconds, peak, clientCpu, records) = await ChildAsync(psi, echo: "CHECK ");
            parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - parentCpu;
            Console.WriteLine(FormattableString.Invariant($"  {dims} (v) check of {records / 2:N0} records a side in {seconds:0.00} s = {records / 2 / seconds:N0} records/s a side (the copy took {copySeconds:0.00} s)") +
                FormattableString.Invariant($"  cpu s: client {clientCpu:0.0} stand-in {parentCpu:0.0}  peak RSS {peak / 1e6:0} MB"));
            await ExecAsync(cs, $"DROP TABLE {TableName}");
        }

        /// <summary>
        /// Case (m): the source table into a Milvus stand-in collection, the engine in a process of its own: its
        /// records/s, its CPU a record (what a real Milvus would see of this client), and the stand-in's CPU apart.
        /// </summary>
        private static async Task MilvusCaseAsync(Options o, string cs, int dims)
        {
            for (var rep = 0; rep < o.Repeat; rep++)
            {
                await using var milvus = await MilvusStandIn.StartAsync();
                var (file, prefix) = Self();
                var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in prefix.Concat(["--engine-only", "--stage", "milvus", "--url", milvus.Url.ToString(), "--collection", "bench_m",
                             "--connection-string", cs, "--source-table", SourceTableName]))
                    psi.ArgumentList.Add(a);
                var parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
                var (seconds, peak, clientCpu, records) = await ChildAsync(psi);
                parentCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - parentCpu;
                if (records != o.Points || milvus.Collections["bench_m"].Rows.Count != o.Points)
                    throw new InvalidOperationException($"Case (m) wrote {records} records, the collection holds {milvus.Collections["bench_m"].Rows.Count}, not {o.Points}.");
                Console.WriteLine(FormattableString.Invariant($"  {dims} (m) Postgres → Milvus: {records:N0} records in {seconds:0.00} s = {records / seconds:N0} rec/s") +
                    FormattableString.Invariant($"  client {clientCpu:0.0} CPU s = {clientCpu * 1e6 / records:0} µs a record  stand-in {parentCpu:0.0} CPU s  peak RSS {peak / 1e6:0} MB"));
            }
        }

        private static async Task<(double, long?, double, long)> EngineAsync(Options o, QdrantStandIn qdrant, string collection, string cs, int dims, bool grpc = false)
        {
            var (file, prefix) = Self();
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in prefix.Concat(["--engine-only", "--url", qdrant.BaseAddress.ToString(), "--collection", collection,
                         "--connection-string", o.ConnectionExtra is null ? cs : cs + ";" + o.ConnectionExtra, "--table", TableName, "--page-size", o.PageSize.ToString(CultureInfo.InvariantCulture), "--prefetch", o.Prefetch.ToString(CultureInfo.InvariantCulture),
                         "--batch-size", o.BatchSize.ToString(CultureInfo.InvariantCulture), "--stage", o.Stage ?? "all",
                         "--points", o.Points.ToString(CultureInfo.InvariantCulture), "--dims", dims.ToString(CultureInfo.InvariantCulture),
                         "--distinct-vectors", o.Distinct.ToString(CultureInfo.InvariantCulture)]))
                psi.ArgumentList.Add(a);
            if (grpc)
            {
                psi.ArgumentList.Add("--grpc-url");
                psi.ArgumentList.Add(qdrant.GrpcBaseAddress.ToString());
            }
            return await ChildAsync(psi);
        }

        /// <summary>How to start this program again: its apphost, or dotnet with its dll.</summary>
        private static (string File, string[] Prefix) Self()
        {
            var process = Environment.ProcessPath!;
            return Path.GetFileNameWithoutExtension(process) == "dotnet"
                ? (process, [Assembly.GetEntryAssembly()!.Location])
                : (process, []);
        }

        private static (string FileName, string[] Prefix)? FindPwsh(Options o, out string why)
        {
            why = "";
            if (o.SkipPwsh)
            {
                why = "--skip-pwsh";
                return null;
            }
            // The repository's own PowerShell tool (restored by `dotnet tool restore`), as the tests run it.
            var pwsh = PwshTool.Find(RepoRoot(), out why);
            if (pwsh is null) return null;
            var module = o.Module ?? Path.Combine(RepoRoot(), "VecMigrate.psd1");
            if (o.Module is null && !Directory.Exists(Path.Combine(RepoRoot(), "module", "bin")))
            {
                why = $"the module is not built ({Path.Combine(RepoRoot(), "module", "bin")} does not exist; build it, or give --module)";
                return null;
            }
            if (!File.Exists(module))
            {
                why = $"{module} does not exist";
                return null;
            }
            o.ModulePath = module;
            return pwsh;
        }

        private static string RepoRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "VecMigrate.sln"))) return dir.FullName;
            }
            return Directory.GetCurrentDirectory();
        }

        private static async Task<(double, long?, double, long)> PwshAsync((string FileName, string[] Prefix) pwsh, Options o, QdrantStandIn qdrant, string collection, string cs, bool grpc, bool copy = false)
        {
            static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
            var grpcUrl = grpc ? "-GrpcUrl " + Quote(qdrant.GrpcBaseAddress.ToString()) : "";
            // (c)/(cg): the pipeline, records through PowerShell; (cv): Copy-VectorData, the same runner without the pipeline.
            var load = copy
                ? $$"""
                    Copy-VectorData -Source (New-QdrantSource -Url {{Quote(qdrant.BaseAddress.ToString())}} {{grpcUrl}} -Collection {{Quote(collection)}}) `
                        -Target (New-PgVectorTarget -ConnectionString {{Quote(cs)}} -Table {{Quote(TableName)}} -BatchSize {{o.BatchSize}}) | Out-Null
                    """
                : $$"""
                    Get-QdrantPoint -Url {{Quote(qdrant.BaseAddress.ToString())}} {{grpcUrl}} -Collection {{Quote(collection)}} |
                        Write-PgVector -ConnectionString {{Quote(cs)}} -Table {{Quote(TableName)}} -BatchSize {{o.BatchSize}} | Out-Null
                    """;
            var script = $$"""
                $ErrorActionPreference = 'Stop'
                Import-Module {{Quote(o.ModulePath!)}}
                $cpu0 = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds
                $sw = [Diagnostics.Stopwatch]::StartNew()
                {{load}}
                $sw.Stop()
                $hwm = [long]((Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM:*' }) -replace '[^0-9]', '') * 1024
                $cpu = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds
                "RESULT $($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture)) $hwm $($cpu.ToString([cultureinfo]::InvariantCulture)) $($cpu0.ToString([cultureinfo]::InvariantCulture))"
                """;
            var psi = new ProcessStartInfo(pwsh.FileName) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in pwsh.Prefix.Concat(["-NoProfile", "-NonInteractive", "-Command", script])) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            var result = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
            if (p.ExitCode != 0 || result is null) throw new InvalidOperationException($"The pwsh pipeline failed ({p.ExitCode}): {output}{await err}");
            var f = result.Trim().Split(' ');
            // The client's CPU counts from after Import-Module, as (b)'s counts its own run: pwsh's start and the
            // module's load are the same whatever the data, and are printed apart.
            var total = double.Parse(f[3], CultureInfo.InvariantCulture);
            var start = double.Parse(f[4], CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      pwsh: {start:0.0} s cpu to start and import the module (not counted), {total - start:0.0} s for the load"));
            return (double.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture), total - start, 0);
        }

        private static void PrintTable(List<Run> runs)
        {
            Console.WriteLine();
            Console.WriteLine("Best of each case (records/s; MB/s of binary COPY data; ratio to (a) on the same table; peak RSS of the client process):");
            Console.WriteLine($"{"dims",5} {"table",-9} {"case",-22} {"records/s",10} {"MB/s",7} {"vs (a)",7} {"peak RSS",9}  {"cpu s client/stand-in/postgres",-30}");
            foreach (var group in runs.GroupBy(r => (r.Dims, r.Table)))
            {
                var a = group.Where(r => r.Case == "a").MaxBy(r => r.RecordsPerSecond);
                foreach (var best in group.GroupBy(r => r.Case).Select(g => g.MaxBy(r => r.RecordsPerSecond)!))
                {
                    var label = best.Case switch
                    {
                        "a" => "(a) psql \\copy",
                        "a2" => "(a2) 2 x psql \\copy",
                        "b" => "(b) engine",
                        "g" => "(g) engine, gRPC",
                        "cg" => "(cg) pwsh, gRPC",
                        "cv" => "(cv) Copy-VectorData",
                        _ when best.Case.StartsWith("al", StringComparison.Ordinal) => $"(al) {best.Case[2..]} x psql \\copy",
                        _ when best.Case.StartsWith('p') => $"(p) engine, {best.Case[1..]} lane(s)",
                        _ => "(c) pwsh pipeline",
                    };
                    var ratio = a is null ? "" : (best.RecordsPerSecond / a.RecordsPerSecond).ToString("0.00", CultureInfo.InvariantCulture);
                    var rss = best.PeakRss is { } p ? $"{p / 1e6:0} MB" : "-";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{best.Dims,5} {best.Table,-9} {label,-22} {best.RecordsPerSecond,10:N0} {best.MegabytesPerSecond,7:0.0} {ratio,7} {rss,9}  {best.ClientCpu:0.0}/{best.StandInCpu:0.0}/{best.PgCpu:0.0}"));
                }
            }

            // The lanes axis, like for like: L lanes of the engine against L psql \copy at once, and each against its 1 lane;
            // with the CPU each record costs the client and Postgres (what a bigger database server would divide by its cores).
            var lanes = runs.Where(r => r.Case.StartsWith('p') || r.Case.StartsWith("al", StringComparison.Ordinal)).ToList();
            if (lanes.Count == 0) return;
            Console.WriteLine();
            Console.WriteLine("Lanes (best of each; (p) vs (al) with the same lanes; each vs its own 1 lane; CPU µs a record, client/postgres):");
            foreach (var group in lanes.GroupBy(r => (r.Dims, r.Table)))
            {
                Run? Best(string c) => group.Where(r => r.Case == c).MaxBy(r => r.RecordsPerSecond);
                var al1 = Best("al1");
                var p1 = Best("p1");
                foreach (var l in group.Select(r => r.Case.TrimStart('a', 'l', 'p')).Distinct().OrderBy(x => int.Parse(x, CultureInfo.InvariantCulture)))
                {
                    var al = Best("al" + l);
                    var pl = Best("p" + l);
                    static string Rate(Run? r) => r is null ? "-" : r.RecordsPerSecond.ToString("N0", CultureInfo.InvariantCulture);
                    static string Ratio(Run? x, Run? y) => x is null || y is null ? "-" : (x.RecordsPerSecond / y.RecordsPerSecond).ToString("0.00", CultureInfo.InvariantCulture);
                    static string Cpu(Run? r) => r is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{r.ClientCpu * 1e6 / r.Records:0}/{r.PgCpu * 1e6 / r.Records:0}");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{group.Key.Dims,5} {group.Key.Table,-9} {l,2} lane(s): (al) {Rate(al),9} rec/s (x{Ratio(al, al1)})  (p) {Rate(pl),9} rec/s (x{Ratio(pl, p1)})  (p)/(al) {Ratio(pl, al),5}  cpu µs (al) {Cpu(al)} (p) {Cpu(pl)}"));
                }
            }
        }

        private static async Task<int> PostmasterPidAsync(string cs)
        {
            // Asked while the connection (and so the backend) is open: a backend that has gone has no parent to read.
            await using var c = new NpgsqlConnection(cs);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_backend_pid()", c);
            var backend = Convert.ToInt32(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            var postmaster = ProcStats.ParentOf(backend);
            if (postmaster <= 1) throw new InvalidOperationException($"The postmaster of backend {backend} was not found (parent {postmaster}).");
            return postmaster;
        }

        private static async Task ExecAsync(string cs, string sql)
        {
            await using var c = new NpgsqlConnection(cs);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync();
        }

        private static async Task<object?> ScalarAsync(string cs, string sql)
        {
            await using var c = new NpgsqlConnection(cs);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
            return await cmd.ExecuteScalarAsync();
        }
    }
}
