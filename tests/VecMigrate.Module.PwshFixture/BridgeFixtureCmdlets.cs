using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Security;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Module.PwshFixture;

/// <summary>One item of Test-VmBridge's output.</summary>
public sealed record BridgeItem(int Index);

/// <summary>
/// Streams -Count items from an async source through WriteAll, logging as it goes; optionally
/// fails after -FailAfter items (with the QDRANT_API_KEY text in the message, to prove masking),
/// or rejects one record (a non-terminating error).
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "VmBridge")]
[OutputType(typeof(BridgeItem))]
public sealed class TestVmBridgeCommand : VecMigrateCmdlet
{
    private static int _produced;

    /// <summary>How many items the source has produced so far; minus the index being consumed, how far it is ahead.</summary>
    public static int Produced => Volatile.Read(ref _produced);

    /// <summary>True when the last run's source saw its cancellation token fire.</summary>
    public static bool LastRunCancelled { get; private set; }

    [Parameter] public int Count { get; set; } = 10;
    [Parameter] public int FailAfter { get; set; } = -1;
    [Parameter] public int RejectAt { get; set; } = -1;

    [Parameter]
    [ArgumentCompleter(typeof(FixtureNameCompleter))]
    public string? Name { get; set; }

    [Parameter]
    [SecretTransformation]
    public SecureString? ApiKey { get; set; }

    protected override void EndProcessing()
    {
        LastRunCancelled = false;
        _produced = 0;
        var logger = LoggerFactory.CreateLogger("VecMigrate.Engine.Fixture.Source");
        var key = ResolveApiKey(ApiKey, Secrets.QdrantApiKeyVariable);
        if (ApiKey is not null) WriteObject($"key length {key!.Reveal().Length}");

        RunAsync(async (writer, token) =>
        {
            await foreach (var i in Source(logger, key, token).ConfigureAwait(false))
            {
                if (i == RejectAt)
                {
                    var record = new VectorRecord(PointId.FromUnsigned((ulong)i), null, null);
                    await writer.WriteErrorAsync(new RecordRejectedException("PgVectorRecordInvalid", $"Record {i} has no vector.", record)).ConfigureAwait(false);
                    continue;
                }
                await writer.WriteObjectAsync(new BridgeItem(i)).ConfigureAwait(false);
            }
        });
    }

    private async IAsyncEnumerable<int> Source(ILogger logger, Engine.Http.ApiSecret? key, [EnumeratorCancellation] CancellationToken token)
    {
        try
        {
            for (var i = 0; i < Count; i++)
            {
                if (i == FailAfter)
                {
                    throw new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound",
                        $"Collection 'docs' does not exist (asked with key {key?.Reveal()}).", "docs");
                }
                token.ThrowIfCancellationRequested();
                logger.LogInformation("produced {Index}", i);
                Interlocked.Increment(ref _produced);
                if (i % 64 == 0) await Task.Yield();
                yield return i;
            }
        }
        finally
        {
            LastRunCancelled = token.IsCancellationRequested;
        }
    }
}

/// <summary>Calls one async method with Await and returns its result.</summary>
[Cmdlet(VerbsDiagnostic.Test, "VmAwait")]
[OutputType(typeof(int))]
public sealed class TestVmAwaitCommand : VecMigrateCmdlet
{
    protected override void EndProcessing()
    {
        var logger = LoggerFactory.CreateLogger("Fixture.Await");
        WriteObject(Await(async token =>
        {
            logger.LogDebug("thinking");
            await Task.Delay(50, token).ConfigureAwait(false);
            return 42;
        }));
    }
}

public sealed class FixtureNameCompleter : NameCompleter
{
    protected override Task<IEnumerable<string>> GetNamesAsync(IDictionary fakeBoundParameters, CancellationToken cancellationToken) =>
        Task.FromResult<IEnumerable<string>>(["docs", "docs archive", "images"]);
}
