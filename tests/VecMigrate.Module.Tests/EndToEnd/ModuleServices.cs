using System.Text;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// What the end-to-end tests point pwsh at: a real Postgres with pgvector, a Qdrant stand-in (with an API key)
/// holding the collection "docs", and a Pinecone stand-in holding the index "movies" in two namespaces.
/// Started only where pwsh exists (elsewhere the tests skip, or fail under CI).
/// </summary>
public sealed class ModuleServices : IAsyncLifetime
{
    public const string QdrantKey = ModuleTestData.QdrantKey;
    public const int DocsDimension = ModuleTestData.DocsDimension;

    private PostgresServer? _pg;
    private QdrantStandIn? _qdrant;
    private PineconeStandIn? _pinecone;

    // Without pwsh nothing was started: a test that reaches for a service fails (under CI) naming why.
    public PostgresServer Pg => _pg ?? Missing<PostgresServer>();

    public QdrantStandIn Qdrant => _qdrant ?? Missing<QdrantStandIn>();

    public PineconeStandIn Pinecone => _pinecone ?? Missing<PineconeStandIn>();

    private static T Missing<T>()
    {
        Pwsh.Require();
        throw new InvalidOperationException("The services were not started.");
    }

    /// <summary>The points of "docs", as seeded: 1,000 with integer ids, a payload with title, year and city.</summary>
    public IReadOnlyList<VectorRecord> Docs { get; private set; } = [];

    /// <summary>The records of "movies": 30 in the default namespace, 45 in "alpha".</summary>
    public IReadOnlyList<VectorRecord> Movies { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (!Pwsh.Available) return; // the tests then fail (under CI) or skip, naming why
        _pg = await PostgresServer.StartAsync();
        _qdrant = await QdrantStandIn.StartAsync(QdrantKey);
        Docs = ModuleTestData.SeedDocs(Qdrant);
        _pinecone = await PineconeStandIn.StartAsync();
        Movies = await ModuleTestData.SeedMoviesAsync(Pinecone);
    }

    public async Task DisposeAsync()
    {
        if (_pinecone is not null) await _pinecone.DisposeAsync();
        if (_qdrant is not null) await _qdrant.DisposeAsync();
        if (_pg is not null) await _pg.DisposeAsync();
    }

    /// <summary>
    /// Runs <paramref name="body"/> in pwsh with the module imported and $manifest, $pg (a fresh database's connection string),
    /// $qurl, $qgrpc (the stand-in's gRPC url), $qkey, $purl and $pkey set; returns the exit code, the KEY=value lines it printed, and all its output.
    /// </summary>
    public PwshRun Run(string body, string connectionString)
    {
        static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
        Pwsh.Require();
        var script = new StringBuilder()
            .AppendLine("$PSStyle.OutputRendering = 'PlainText'")
            .AppendLine("$ProgressPreference = 'SilentlyContinue'")
            .AppendLine($"$manifest = {Quote(Repo.Manifest)}")
            .AppendLine("Import-Module $manifest -ErrorAction Stop")
            .AppendLine($"$pg = {Quote(connectionString)}")
            .AppendLine($"$qurl = {Quote(Qdrant.BaseAddress.ToString())}")
            .AppendLine($"$qgrpc = {Quote(Qdrant.GrpcBaseAddress.ToString())}")
            .AppendLine($"$qkey = {Quote(QdrantKey)}")
            .AppendLine($"$purl = {Quote(Pinecone.ControlPlaneUrl.ToString())}")
            .AppendLine($"$pkey = {Quote(Pinecone.ApiKey)}")
            .AppendLine(body)
            .AppendLine("'DONE=1'")
            .ToString();
        var (exitCode, output, error) = Pwsh.Run(script, TimeSpan.FromMinutes(3));
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=');
            if (eq > 0 && line[..eq].All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is '_' or '.')) values[line[..eq]] = line[(eq + 1)..]; // KEY or KEY.PART
        }
        return new PwshRun(exitCode, values, output, error);
    }

    public Task<string> NewDatabaseAsync() => Pg.CreateDatabaseAsync();

    /// <summary>A table read back through the engine's own reader.</summary>
    public static async Task<List<VectorRecord>> ReadBackAsync(string connectionString, string table)
    {
        var records = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = connectionString, Table = table }).ReadAsync()) records.Add(r);
        return records;
    }
}

/// <summary>What a pwsh run left: its exit code, KEY=value lines, and everything it printed.</summary>
public sealed record PwshRun(int ExitCode, IReadOnlyDictionary<string, string> Values, string Output, string Error)
{
    public string this[string key] => Values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"pwsh printed no {key}=.\n{Output}\n{Error}");

    /// <summary>Asserts the script ran to its end.</summary>
    public PwshRun Completed()
    {
        Assert.True(ExitCode == 0 && Values.ContainsKey("DONE"), $"pwsh exited with {ExitCode} before the end.\nOUTPUT:\n{Output}\nERROR:\n{Error}");
        return this;
    }
}

[CollectionDefinition(Name)]
public sealed class ModuleServicesCollection : ICollectionFixture<ModuleServices>
{
    public const string Name = "module-services";
}
