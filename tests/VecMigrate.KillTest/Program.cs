using System.Globalization;
using System.Text.Json;
using VecMigrate.Engine;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;

// One run of a resumable migration, as a scheduled job would make it:
//   VecMigrate.KillTest --qdrant URL --collection NAME --pg CONNECTION-STRING --table NAME --checkpoint NAME
//                       [--batch 1000] [--page 500]
//   VecMigrate.KillTest --qdrant URL --collection NAME --file PATH --checkpoint NAME [--batch 1000] [--page 500]
//                       (an export into a Parquet or JSONL file instead of a Postgres table)
// Prints "ack <records in all> <read in this run>" after each committed batch and "done <summary JSON>" at the end.
// Exit code 0 when the source was read to its end, 1 on a migration error, 2 on bad arguments.

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unexpected '{args[i]}'");
    options[args[i][2..]] = args[i + 1];
}
var toFile = options.ContainsKey("file");
foreach (var required in toFile ? new[] { "qdrant", "collection", "file", "checkpoint" } : new[] { "qdrant", "collection", "pg", "table", "checkpoint" })
{
    if (!options.ContainsKey(required)) return Usage($"--{required} is missing");
}
var batch = int.Parse(options.GetValueOrDefault("batch", "1000"), CultureInfo.InvariantCulture);
var page = int.Parse(options.GetValueOrDefault("page", "500"), CultureInfo.InvariantCulture);

using var transport = new RestTransport(new RetryPolicy { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2) },
    TimeSpan.FromSeconds(30));
using var client = new QdrantClient(new Uri(options["qdrant"]), null, transport);
var source = QdrantSource.AsMigrationSource(client, new QdrantReadOptions(options["collection"]) { PageSize = page });
await using IRecordSink writer = toFile
    ? new FileSink(new FileSinkOptions(options["file"]) { BatchSize = batch })
    : new PgVectorWriter(new PgWriteOptions { ConnectionString = options["pg"], Table = options["table"], BatchSize = batch });
try
{
    var summary = await Migration.RunAsync(source, writer, new MigrationOptions
    {
        Checkpoint = options["checkpoint"],
        Resume = true,
        Progress = p => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {p.TotalRecords} {p.RecordsRead}")),
    });
    Console.Out.WriteLine("done " + JsonSerializer.Serialize(new
    {
        summary.RecordsBefore,
        summary.RecordsRead,
        summary.RecordsWritten,
        summary.TotalRecords,
        summary.RecordsReread,
        summary.ResumedAfter,
        summary.AlreadyComplete,
        summary.Reconnects,
    }));
    return 0;
}
catch (VecMigrateException ex)
{
    Console.Error.WriteLine($"{ex.ErrorId}: {ex.Message}");
    return 1;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"VecMigrate.KillTest: {problem}. Usage: --qdrant URL --collection NAME --pg CONNECTION-STRING --table NAME --checkpoint NAME [--batch N] [--page N]");
    return 2;
}
