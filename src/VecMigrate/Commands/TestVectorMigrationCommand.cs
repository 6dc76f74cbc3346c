using System.Management.Automation;
using Microsoft.Extensions.Logging;
using VecMigrate.Engine;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>
/// Test-VectorMigration: proves that a target holds exactly the source's records (digests of both sides, then the
/// differing records by name and what differs in each), or checks a random sample. "Not equal" is an error record
/// after the result, so -ErrorAction Stop stops a runbook on it.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "VectorMigration", DefaultParameterSetName = SpecsSet)]
[OutputType(typeof(MigrationCheckResult))]
public sealed class TestVectorMigrationCommand : DigestCmdlet
{
    /// <summary>Source and target given as specs.</summary>
    public const string SpecsSet = "Specs";

    /// <summary>The source and target of a Copy-VectorData summary.</summary>
    public const string SummarySet = "Summary";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SpecsSet)]
    [ValidateNotNull]
    public MigrationSourceSpec Source { get; set; } = null!;

    /// <summary>The target read back: a source spec (New-PgVectorSource, ...) or the target spec a copy wrote into.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = SpecsSet)]
    [ValidateNotNull]
    public object Target { get; set; } = null!;

    /// <summary>A Copy-VectorData summary: its source against its target.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SummarySet)]
    [ValidateNotNull]
    public MigrationSummary InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public int? Sample { get; set; }

    [Parameter] public int Seed { get; set; } = 1;

    [Parameter]
    [ValidateRange(0, 100_000)]
    public int MaxDifference { get; set; } = 100;

    /// <summary>Search parity as well: this many query vectors drawn from the source, each side's own search compared.</summary>
    [Parameter]
    [ValidateRange(1, 100_000)]
    public int? SearchQueries { get; set; }

    /// <summary>Neighbours per search query.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int TopK { get; set; } = 10;

    /// <summary>The vector searched (a named vector); the source's first dense vector by default.</summary>
    [Parameter]
    [ValidateNotNull]
    public string? SearchVector { get; set; }

    /// <summary>Search through each side's index (HNSW, IVFFlat), as applications do, instead of exactly.</summary>
    [Parameter] public SwitchParameter Approximate { get; set; }

    /// <summary>An error after the result when search recall falls below this (0 to 1).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double? MinRecall { get; set; }

    protected override void ProcessRecord()
    {
        MigrationSourceSpec source, target;
        if (ParameterSetName == SummarySet)
        {
            if (InputObject.SourceSpec is null || InputObject.TargetSpec is null)
            {
                ThrowTerminatingError(new VecMigrateException(FailureKind.InvalidArgument, "MigrationCheckNoSpecs",
                    $"The summary of {InputObject.Source} → {InputObject.Target} does not carry its source and target (only Copy-VectorData's do); give -Source and -Target."));
            }
            source = InputObject.SourceSpec;
            target = ReadBack(InputObject.TargetSpec);
        }
        else
        {
            source = Source;
            target = (Target is PSObject ps ? ps.BaseObject : Target) switch
            {
                MigrationSourceSpec s => s,
                MigrationTargetSpec t => ReadBack(t),
                var other => throw new PSArgumentException(
                    $"-Target takes a source spec (New-PgVectorSource, New-QdrantSource, ...) or a target spec that can be read back, not {other?.GetType().Name ?? "null"}.", nameof(Target)),
            };
        }
        Check(source, target);
    }

    private MigrationSourceSpec ReadBack(MigrationTargetSpec target) => target.AsSource() ?? throw new PSArgumentException(
        $"{target} cannot be read back by VecMigrate yet; give the target as a source spec (New-PineconeSource, New-MilvusSource, ...).", nameof(Target));

    private void Check(MigrationSourceSpec sourceSpec, MigrationSourceSpec targetSpec)
    {
        var loggers = LoggerFactory;
        var progress = new ProgressMeter($"Checking {sourceSpec.System} against {targetSpec.System}");
        var searchProgress = new ProgressMeter($"Searching {sourceSpec.System} and {targetSpec.System}", SearchQueries);
        using var transport = new RestTransport(logger: loggers.CreateLogger<RestTransport>());
        RunAsync(async (writer, token) =>
        {
            long shown = 0;
            var options = new MigrationCheckOptions
            {
                NormalizeDense = NormalizeDense, QdrantIds = QdrantId, Sample = Sample, Seed = Seed, MaxDifferences = MaxDifference,
                IgnorePayloadFields = IgnoredPayloadFields(),
                IgnoreVectors = IgnoredVectors(),
                Progress = n =>
                {
                    // Both sides count at once: only the caller that moves the mark forward reports the step.
                    var before = Interlocked.Read(ref shown);
                    if (n - before < 1000) return;
                    if (Interlocked.CompareExchange(ref shown, n, before) == before) writer.AdvanceProgress(progress, n - before);
                },
                Search = SearchQueries is { } queries
                    ? new SearchParityOptions { Queries = queries, TopK = TopK, Vector = SearchVector, Approximate = Approximate.IsPresent }
                    : null,
                SearchProgress = () => writer.AdvanceProgress(searchProgress, 1),
            };
            try
            {
                var result = await MigrationCheck.RunAsync(sourceSpec.Open(transport, loggers), targetSpec.Open(transport, loggers), options, token).ConfigureAwait(false);
                await writer.WriteObjectAsync(result).ConfigureAwait(false);
                if (result.Search is { } parity && MinRecall is { } floor && parity.Recall < floor)
                {
                    await writer.WriteErrorAsync(new VecMigrateException(FailureKind.InvalidRecord, "VectorSearchRecallLow",
                        $"Searching {result.Target} finds {parity.Recall:P2} of the neighbours {result.Source} finds (recall@{parity.TopK} over {parity.Queries:N0} queries; -MinRecall {floor:P2})" +
                        (parity.WorstQueries.Count > 0 ? $"; worst: {string.Join(", ", parity.WorstQueries)}." : "."), result.Target)).ConfigureAwait(false);
                }
                if (!result.Equal)
                {
                    // After the result, so that it is there to look at; -ErrorAction Stop makes it end the script.
                    await writer.WriteErrorAsync(new VecMigrateException(FailureKind.InvalidRecord, "VectorMigrationNotEqual",
                        $"{result.Target} does not hold exactly {result.Source}: {result.Missing:N0} missing, {result.Extra:N0} extra, {result.Changed:N0} changed" +
                        (result.Differences.Count > 0 ? $" (first: {result.Differences[0]})." : "."), result.Target)).ConfigureAwait(false);
                }
            }
            finally
            {
                writer.CompleteProgress(progress);
                if (SearchQueries is not null) writer.CompleteProgress(searchProgress);
            }
        });
    }
}
