using System.Text.Json;
using System.Text.Json.Nodes;
using VecMigrate.Engine.Milvus;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Milvus;

/// <summary>
/// The client's requests and the stand-in's answers, both checked against the machine-readable part of
/// docs/milvus-contract.md (written from Milvus's source): neither can drift from the document without this failing.
/// </summary>
public sealed class MilvusContractTests
{
    private static JsonObject Contract()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VecMigrate.sln"))) dir = dir.Parent;
        var text = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "milvus-contract.md"));
        var start = text.IndexOf("```json", text.IndexOf("## Machine-readable part", StringComparison.Ordinal), StringComparison.Ordinal) + "```json".Length;
        return JsonNode.Parse(text[start..text.IndexOf("```", start, StringComparison.Ordinal)])!.AsObject();
    }

    internal static List<string> Check(JsonObject contract, IEnumerable<MilvusStandInExchange> exchanges)
    {
        var problems = new List<string>();
        var paths = contract["paths"]!.AsObject();
        var errors = contract["errors"]!.AsObject();
        foreach (var x in exchanges)
        {
            var where = $"{x.Path}";
            if (paths[x.Path] is not JsonObject spec) { problems.Add($"{where}: not in the contract"); continue; }
            var req = JsonNode.Parse(x.RequestBody)!.AsObject();
            var allowed = spec["request"]!.AsArray().Select(n => n!.GetValue<string>()).Append("dbName").ToHashSet();
            problems.AddRange(req.Select(kv => kv.Key).Where(k => !allowed.Contains(k)).Select(k => $"{where}: request key '{k}' not in the contract"));
            problems.AddRange(spec["required"]!.AsArray().Select(n => n!.GetValue<string>()).Where(k => !req.ContainsKey(k)).Select(k => $"{where}: required request key '{k}' missing"));
            if (x.Path.EndsWith("collections/create", StringComparison.Ordinal) && req["schema"] is JsonObject schema)
            {
                Keys(schema, spec["schemaKeys"], $"{where} schema", problems);
                foreach (var f in schema["fields"]!.AsArray()) Keys(f!.AsObject(), spec["fieldKeys"], $"{where} field", problems);
                foreach (var i in req["indexParams"]?.AsArray() ?? []) Keys(i!.AsObject(), spec["indexKeys"], $"{where} index", problems);
            }
            var answer = JsonNode.Parse(x.ResponseBody)!.AsObject();
            var code = answer["code"]?.GetValue<int>();
            if (code is null) { problems.Add($"{where}: answer without code"); continue; }
            if (code == 0)
            {
                if (x.Status != 200) problems.Add($"{where}: success with HTTP {x.Status}");
                var data = answer["data"];
                var kind = spec["data"]!.GetValue<string>();
                if (kind == "array" ? data is not JsonArray : data is not JsonObject) { problems.Add($"{where}: data is not an {kind}"); continue; }
                foreach (var k in spec["dataKeys"]?.AsArray() ?? [])
                    if (data is JsonObject o && !o.ContainsKey(k!.GetValue<string>())) problems.Add($"{where}: data has no '{k}'");
                if (x.Path.EndsWith("collections/describe", StringComparison.Ordinal))
                    foreach (var f in data!["fields"]!.AsArray())
                        foreach (var k in spec["fieldKeys"]!.AsArray())
                            if (!f!.AsObject().ContainsKey(k!.GetValue<string>())) problems.Add($"{where}: field has no '{k}'");
            }
            else
            {
                var message = answer["message"]?.GetValue<string>() ?? "";
                if (errors[code.Value.ToString()] is not { } expected) problems.Add($"{where}: code {code} not in the contract");
                else if (!message.Contains(expected.GetValue<string>(), StringComparison.Ordinal)) problems.Add($"{where}: code {code} message '{message}' does not say '{expected}'");
                if (code == 1800 && x.Status != contract["authStatus"]!.GetValue<int>()) problems.Add($"{where}: authentication refused with HTTP {x.Status}");
            }
        }
        return problems;
    }

    private static void Keys(JsonObject o, JsonNode? allowed, string where, List<string> problems)
    {
        var set = allowed!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        problems.AddRange(o.Select(kv => kv.Key).Where(k => !set.Contains(k)).Select(k => $"{where}: key '{k}' not in the contract"));
    }

    [Fact]
    public async Task Every_exchange_of_a_write_read_and_the_error_paths_fits_the_contract_document()
    {
        var contract = Contract();
        await using var m = await MilvusStandIn.StartAsync();
        using var t = MilvusKit.Transport();
        var client = MilvusKit.Client(m, t);
        var schema = new SourceSchema(SourceKind.Postgres, "c", IdKinds.String, [new VectorField("", VectorKind.Dense, 3, DistanceMetric.Euclid), new VectorField("bm25", VectorKind.Sparse, null)], false, "payload")
        {
            Fields = [new ScalarField("title", "text", true), new ScalarField("n", "int8", false), new ScalarField("tags", "_text", true, "text")],
        };
        var records = Enumerable.Range(0, 25).Select(i => new VectorRecord($"k{i}", new Dictionary<string, VectorValue>
        {
            [""] = new DenseVector([i, 1, 2]), ["bm25"] = new SparseVector([1u, (uint)(5 + i)], [0.5f, i + 1]),
        }, JsonPayload.FromString($$$"""{"title":"t{{{i}}}","n":{{{i}}},"tags":["a"],"free":{"x":{{{i}}}}}""")) { Schema = schema }).ToList();
        await using (var sink = new MilvusSink(client, new MilvusSinkOptions("c") { BatchSize = 10 }))
        {
            await sink.WriteThroughRunnerAsync(records.ToAsyncEnumerable());
        }
        RecordAssert.SameSet(records, await MilvusKit.ReadAllAsync(client, "c", page: 7));
        using (var found = await client.SearchAsync("c", "vector", [1, 1, 2], 3, "n >= 0", ["id"]))
        {
            var hits = found.RootElement.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(["k1", "k0", "k2"], hits.Select(h => h.GetProperty("id").GetString()));
            Assert.Equal([0f, 1f, 1f], hits.Select(h => h.GetProperty("distance").GetSingle())); // L2: squared distances
        }
        await client.GetCollectionAsync("c");
        await client.ListCollectionsAsync();
        m.AddCollection("cold", [new("id", "Int64", true, false, false, null, null, null, null), new("v", "FloatVector", false, false, false, 2, null, null, null)], loaded: false);
        m.FailNext(8);
        m.FailNext(2);
        await Assert.ThrowsAnyAsync<VecMigrateException>(() => client.QueryAsync("cold", "", ["*"], 10));
        await Assert.ThrowsAnyAsync<VecMigrateException>(() => client.GetCollectionAsync("none"));
        await Assert.ThrowsAnyAsync<VecMigrateException>(() => MilvusKit.Client(m, t, "root:wrong").ListCollectionsAsync());

        var seen = m.Exchanges.ToList();
        Assert.Empty(Check(contract, seen));
        // What was exercised: every path the client uses, and the error codes of the contract but 1100/1804.
        Assert.Subset(seen.Select(x => x.Path).ToHashSet(), contract["paths"]!.AsObject().Select(kv => kv.Key).Where(p => !p.EndsWith("insert") && !p.EndsWith("load")).ToHashSet());
        Assert.Equal(new HashSet<int> { 0, 8, 2, 101, 100, 1800 }, seen.Select(x => JsonNode.Parse(x.ResponseBody)!["code"]!.GetValue<int>()).ToHashSet());
    }

    [Fact]
    public void The_check_finds_a_stand_in_or_client_that_left_the_contract()
    {
        var contract = Contract();
        var problems = Check(contract,
        [
            new("/v2/vectordb/entities/query", """{"collectionName":"c","limit":5,"pageToken":"x"}""", 200, """{"code":0,"data":[]}"""),
            new("/v2/vectordb/collections/get_stats", """{"collectionName":"c"}""", 200, """{"code":0,"data":{"count":3}}"""),
            new("/v2/vectordb/collections/describe", """{"collectionName":"c"}""", 200, """{"code":100,"message":"no such thing"}"""),
            new("/v2/vectordb/collections/list", """{}""", 200, """{"code":1800,"message":"user hasn't authenticated"}"""),
        ]);
        Assert.Equal(4, problems.Count);
    }
}
