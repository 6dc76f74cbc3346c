using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;

namespace VecMigrate.Benchmark;

/// <summary>
/// Case (b) in a process of its own (so that its peak memory is the engine's alone): Qdrant → pgvector through
/// the engine's runner (Migration), the one Copy-VectorData and the Write- cmdlets run. With <c>--stage</c> it runs one part only, to see where the
/// time goes: <c>fetch</c> (the scroll answers' bytes, unparsed), <c>read</c> (QdrantSource: fetch and parse),
/// <c>write</c> (PgVectorWriter fed records already in memory).
/// </summary>
internal static class EngineRun
{
    public static async Task<int> RunAsync(Options o)
    {
        var stage = o.Stage ?? "all";
        var started = Stopwatch.GetTimestamp();
        long records;
        switch (stage)
        {
            case "all":
            {
                using var transport = new RestTransport();
                using var client = new QdrantClient(new Uri(o.Url!), null, transport) { GrpcUrl = o.GrpcUrl is null ? null : new Uri(o.GrpcUrl) };
                var source = QdrantSource.AsMigrationSource(client, new QdrantReadOptions(o.Collection!) { PageSize = o.PageSize, Prefetch = o.Prefetch });
                await using var writer = new PgVectorWriter(WriteOptions(o));
                records = (await Migration.RunAsync(source, writer)).RecordsWritten;
                break;
            }
            case "lanes":
            {
                // Case (p): a Postgres table into the table in L lanes, as Copy-VectorData -Parallel L runs it.
                var lanes = o.Lanes[0];
                var checkpoint = "bench-" + Guid.NewGuid().ToString("N")[..8];
                var source = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = o.ConnectionString!, Table = o.SourceTable!, PageSize = 2000 });
                var summary = await PartitionedMigration.RunAsync(source, () => new PgVectorWriter(WriteOptions(o)), new PgPartitionLedger(o.ConnectionString!),
                    new PartitionedMigrationOptions { Checkpoint = checkpoint, Lanes = lanes });
                records = summary.RecordsWritten;
                await PgCheckpointStore.RemoveAsync(o.ConnectionString!, checkpoint);
                break;
            }
            case "check":
            {
                // Case (v): the collection proved against the table a copy made, as Test-VectorMigration does it.
                using var transport = new RestTransport();
                using var client = new QdrantClient(new Uri(o.Url!), null, transport);
                var source = QdrantSource.AsMigrationSource(client, new QdrantReadOptions(o.Collection!) { PageSize = o.PageSize, Prefetch = o.Prefetch });
                var target = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = o.ConnectionString!, Table = o.Table!, PageSize = 2000 });
                var result = await MigrationCheck.RunAsync(source, target, new MigrationCheckOptions
                {
                    Search = o.SearchQueries > 0 ? new SearchParityOptions { Queries = o.SearchQueries, TopK = 10 } : null,
                });
                if (!result.Equal) throw new InvalidOperationException($"The copy is not equal: {result.Missing} missing, {result.Extra} extra, {result.Changed} changed.");
                records = result.SourceCount + result.TargetCount;
                Console.WriteLine(FormattableString.Invariant($"CHECK equal={result.Equal} source={result.SourceCount} target={result.TargetCount} method=\"{result.Method}\"") +
                    (result.Search is { } s ? FormattableString.Invariant($" recall={s.Recall:0.####} min_recall={s.MinRecall:0.###} queries={s.Queries} max_score_difference={s.MaxScoreDifference:G3}") : ""));
                break;
            }
            case "milvus":
            {
                // Case (m): a Postgres table into a Milvus collection, as Copy-VectorData with New-MilvusTarget runs it.
                using var transport = new RestTransport();
                var client = new Engine.Milvus.MilvusClient(new Uri(o.Url!), new ApiSecret("root:Milvus"), transport);
                var source = PgVectorSource.AsMigrationSource(new PgReadOptions { ConnectionString = o.ConnectionString!, Table = o.SourceTable!, PageSize = 2000 });
                await using var sink = new Engine.Milvus.MilvusSink(client, new Engine.Milvus.MilvusSinkOptions(o.Collection!));
                records = (await Migration.RunAsync(source, sink)).RecordsWritten;
                break;
            }
            case "read":
            {
                using var transport = new RestTransport();
                using var client = new QdrantClient(new Uri(o.Url!), null, transport) { GrpcUrl = o.GrpcUrl is null ? null : new Uri(o.GrpcUrl) };
                records = 0;
                await foreach (var r in new QdrantSource(client).ReadAsync(new QdrantReadOptions(o.Collection!) { PageSize = o.PageSize, Prefetch = o.Prefetch }))
                {
                    records++;
                }
                break;
            }
            case "fetch":
                records = await FetchOnlyAsync(o);
                break;
            case "parse":
            {
                // One answer fetched once, then parsed over and over on this thread: the parser's own cost, with
                // no network and no other thread (the answer stays in this core's caches when it fits them).
                var answer = await FetchPageAsync(o);
                records = 0;
                started = Stopwatch.GetTimestamp();
                while (records < o.Points)
                {
                    var page = QdrantScrollParser.Parse(answer, default, (m, _) => new InvalidOperationException(m));
                    records += Math.Min(page.Points.Count, o.Points - records);
                }
                break;
            }
            case "write":
            {
                var data = new BenchData(o.Points, o.Dims[0], Math.Min(o.Distinct, 4096));
                var schema = new SourceSchema(SourceKind.Qdrant, o.Collection!, IdKinds.Unsigned,
                    [new VectorField("", VectorKind.Dense, o.Dims[0], DistanceMetric.Cosine)], hasNamespaces: false, payloadName: "payload");
                started = Stopwatch.GetTimestamp();
                await using var writer = new PgVectorWriter(WriteOptions(o));
                records = (await Migration.RunAsync(MigrationSource.Once("records in memory", InMemory(data, schema)), writer)).RecordsWritten;
                break;
            }
            default:
                throw new ArgumentException($"Unknown stage '{stage}' (all, read, fetch, parse, write, lanes, check, milvus).");
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT records={records} seconds={seconds:0.000} peak_rss={ProcStats.PeakRss()} cpu={cpu:0.00} gc0={GC.CollectionCount(0)} gc2={GC.CollectionCount(2)} allocated={GC.GetTotalAllocatedBytes()}"));
        return 0;
    }

    private static PgWriteOptions WriteOptions(Options o) => new()
    {
        ConnectionString = o.ConnectionString!,
        Table = o.Table!,
        BatchSize = o.BatchSize,
    };

    private static async IAsyncEnumerable<VectorRecord> InMemory(BenchData data, SourceSchema schema)
    {
        await Task.Yield();
        var vectors = new Dictionary<string, VectorValue>[data.Distinct];
        for (var k = 0; k < data.Distinct; k++) vectors[k] = new() { [""] = new DenseVector(data.VectorOf((ulong)k + 1)) };
        for (ulong id = 1; id <= (ulong)data.Points; id++)
        {
            yield return new VectorRecord(id, vectors[(int)((id - 1) % (ulong)data.Distinct)], new JsonPayload(BenchData.PayloadOf(id))) { Schema = schema };
        }
    }

    /// <summary>The answer to the collection's first scroll request of a page, as bytes.</summary>
    private static async Task<byte[]> FetchPageAsync(Options o)
    {
        using var http = new HttpClient();
        var url = new Uri(new Uri(o.Url!), $"collections/{o.Collection}/points/scroll");
        using var content = new StringContent($$"""{"limit":{{o.PageSize}},"with_payload":true,"with_vector":true}""", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Scrolls the collection with plain HTTP requests and throws the answers away (ids run 1..N).</summary>
    private static async Task<long> FetchOnlyAsync(Options o)
    {
        using var http = new HttpClient();
        var url = new Uri(new Uri(o.Url!), $"collections/{o.Collection}/points/scroll");
        var buffer = new byte[1 << 20];
        long bytes = 0, records = 0;
        for (long offset = 1; offset <= o.Points; offset += o.PageSize)
        {
            using var content = new StringContent($$"""{"limit":{{o.PageSize}},"offset":{{offset}},"with_payload":true,"with_vector":true}""", Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync();
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) bytes += n;
            records += Math.Min(o.PageSize, o.Points - offset + 1);
        }
        Console.WriteLine($"fetched {bytes / 1e6:0.0} MB of JSON");
        return records;
    }
}
