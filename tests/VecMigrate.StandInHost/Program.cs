using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

// Serves a throwaway Postgres with pgvector and the Qdrant, Pinecone and Milvus stand-ins on loopback, seeded with the module
// tests' data (ModuleTestData), until standard input closes or the process is told to stop (SIGTERM, SIGINT).
//
// Prints one JSON line when ready: qdrantUrl, qdrantGrpcUrl, qdrantKey, pineconeUrl, pineconeKey, connectionString
// (a database with the vector extension), postgresPort, milvusUrl, milvusToken, identityEndpoint and identityHeader (a
// managed identity's token endpoint as Azure Automation gives it, IDENTITY_ENDPOINT and IDENTITY_HEADER), identityRole (a
// Postgres role that logs in with scram-sha-256 and whose only password is the newest token that endpoint issued; tokens
// last 5 minutes and 3 seconds, so Azure.Identity renews them every 3 seconds), pid. Then answers one JSON line per command line on stdin:
//   database                              a fresh database with the vector extension: {"connectionString": ...}
//   pinecone-index NAME DIMENSION [METRIC] creates an empty Pinecone index: {"index": NAME}
//   qdrant-delay MS / pinecone-delay MS    every Qdrant / Pinecone answer waits MS milliseconds (0: none)
//   qdrant-drop NAME                       drops a Qdrant collection: {"dropped": true|false}
//   qdrant-reseed                          drops "docs" and seeds it again as at the start (after a test wrote into it)
//   milvus-drop NAME                       drops a Milvus collection: {"dropped": true|false}
//   milvus-reseed                          drops Milvus's "docs" and seeds it again as at the start
//   stats                                  requests served so far: {"qdrantScrolls", "qdrantRequests", "pineconeRequests"}
// A command that fails answers {"error": message} and the host goes on.

using var stopping = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); });

var output = Console.Out;
output.NewLine = "\n";
void Answer(JsonObject o) { lock (output) { output.WriteLine(o.ToJsonString()); output.Flush(); } }

PostgresServer? pg = null;
QdrantStandIn? qdrant = null;
PineconeStandIn? pinecone = null;
MilvusStandIn? milvus = null;
ManagedIdentityStandIn? identity = null;
try
{
    var pgStart = PostgresServer.StartAsync();
    qdrant = await QdrantStandIn.StartAsync(ModuleTestData.QdrantKey);
    ModuleTestData.SeedDocs(qdrant);
    pinecone = await PineconeStandIn.StartAsync();
    await ModuleTestData.SeedMoviesAsync(pinecone);
    milvus = await MilvusStandIn.StartAsync(ModuleTestData.MilvusToken);
    ModuleTestData.SeedMilvusDocs(milvus);
    pg = await pgStart;
    var database = await pg.CreateDatabaseAsync("vecmigrate");
    const string IdentityRole = "vecmigrate_mi";
    await pg.CreatePasswordRoleAsync(IdentityRole);
    identity = await ManagedIdentityStandIn.StartAsync();
    identity.TokenLifetime = TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(3);
    var admin = pg.ConnectionString;
    identity.Issued = async (_, _, token) =>
    {
        await using var c = new Npgsql.NpgsqlConnection(admin);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"ALTER ROLE {IdentityRole} PASSWORD '{token}'", c);
        await cmd.ExecuteNonQueryAsync();
    };

    Answer(new JsonObject
    {
        ["qdrantUrl"] = qdrant.BaseAddress.ToString(),
        ["qdrantGrpcUrl"] = qdrant.GrpcBaseAddress.ToString(),
        ["qdrantKey"] = ModuleTestData.QdrantKey,
        ["pineconeUrl"] = pinecone.ControlPlaneUrl.ToString(),
        ["pineconeKey"] = pinecone.ApiKey,
        ["connectionString"] = database,
        ["postgresPort"] = pg.Port,
        ["milvusUrl"] = milvus.Url.ToString(),
        ["milvusToken"] = ModuleTestData.MilvusToken,
        ["identityEndpoint"] = identity.Endpoint.ToString(),
        ["identityHeader"] = identity.Header,
        ["identityRole"] = IdentityRole,
        ["pid"] = Environment.ProcessId,
    });

    var commands = Task.Run(async () =>
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 0) continue;
            try
            {
                Answer(words[0] switch
                {
                    "database" => new JsonObject { ["connectionString"] = await pg.CreateDatabaseAsync() },
                    "pinecone-index" when words.Length is 3 or 4 => await CreateIndexAsync(pinecone, words),
                    "qdrant-delay" when words.Length == 2 => Delay(ms => qdrant.Faults.Delay = ms, words[1]),
                    "pinecone-delay" when words.Length == 2 => Delay(ms => pinecone.ResponseDelay = ms, words[1]),
                    "qdrant-drop" when words.Length == 2 => new JsonObject { ["dropped"] = qdrant.DropCollection(words[1]) },
                    "qdrant-reseed" => Reseed(qdrant),
                    "milvus-drop" when words.Length == 2 => new JsonObject { ["dropped"] = milvus.Collections.TryRemove(words[1], out _) },
                    "milvus-reseed" => ReseedMilvus(milvus),
                    "stats" => new JsonObject
                    {
                        ["qdrantScrolls"] = qdrant.ScrollRequests + qdrant.GrpcScrollRequests,
                        ["qdrantRequests"] = qdrant.Requests,
                        ["pineconeRequests"] = pinecone.Requests.Count,
                    },
                    _ => new JsonObject { ["error"] = $"unknown command: {line}" },
                });
            }
            catch (Exception e)
            {
                Answer(new JsonObject { ["error"] = e.Message });
            }
        }
    });
    await Task.WhenAny(commands, Task.Delay(Timeout.Infinite, stopping.Token));
}
catch (Exception e)
{
    Console.Error.WriteLine($"stand-in host: {e}");
    Environment.ExitCode = 1;
}
finally
{
    if (identity is not null) await identity.DisposeAsync();
    if (milvus is not null) await milvus.DisposeAsync();
    if (pinecone is not null) await pinecone.DisposeAsync();
    if (qdrant is not null) await qdrant.DisposeAsync();
    if (pg is not null) await pg.DisposeAsync();
}

static async Task<JsonObject> CreateIndexAsync(PineconeStandIn pinecone, string[] words)
{
    var index = await pinecone.CreateIndexAsync(words[1], int.Parse(words[2]), words.Length == 4 ? words[3] : "cosine");
    return new JsonObject { ["index"] = index.Name };
}

static JsonObject Reseed(QdrantStandIn qdrant)
{
    qdrant.DropCollection("docs");
    ModuleTestData.SeedDocs(qdrant);
    return new JsonObject { ["ok"] = true };
}

static JsonObject ReseedMilvus(MilvusStandIn milvus)
{
    milvus.Collections.TryRemove("docs", out _);
    ModuleTestData.SeedMilvusDocs(milvus);
    return new JsonObject { ["ok"] = true };
}

static JsonObject Delay(Action<TimeSpan> set, string milliseconds)
{
    set(TimeSpan.FromMilliseconds(int.Parse(milliseconds)));
    return new JsonObject { ["ok"] = true };
}
