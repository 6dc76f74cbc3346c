using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pinecone;

namespace VecMigrate.Commands;

/// <summary>Get-PineconeIndex: the indexes of the API key's project, with their record counts by namespace.</summary>
[Cmdlet(VerbsCommon.Get, "PineconeIndex")]
[OutputType(typeof(PineconeIndexSummary))]
public sealed class GetPineconeIndexCommand : PineconeCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string[]? Name { get; set; }

    protected override void EndProcessing()
    {
        var client = OpenClient();
        RunAsync(async (writer, token) =>
        {
            IReadOnlyList<PineconeIndexModel>? listed = null;
            var names = await NamePatterns.ResolveAsync(Name, async () =>
                (listed = await client.ListIndexesAsync(token).ConfigureAwait(false)).Select(i => i.Name)).ConfigureAwait(false);
            foreach (var (name, literal) in names)
            {
                PineconeIndexModel model;
                try
                {
                    model = listed?.FirstOrDefault(i => i.Name == name) ?? await client.DescribeIndexAsync(name, token).ConfigureAwait(false);
                }
                catch (VecMigrateException e) when (e.Kind == FailureKind.NotFound && literal)
                {
                    await writer.WriteErrorAsync(e).ConfigureAwait(false);
                    continue;
                }
                // Counts come from the index itself; one that is not ready (or does not answer) is shown without them.
                PineconeIndexStats? stats = null;
                if (model.Ready)
                {
                    try
                    {
                        stats = await client.DescribeIndexStatsAsync(client.IndexUrl(model.Host), token).ConfigureAwait(false);
                    }
                    catch (VecMigrateException e) when (e.Kind is not FailureKind.Unauthorized)
                    {
                        await writer.WriteErrorAsync(e).ConfigureAwait(false);
                    }
                }
                await writer.WriteObjectAsync(PineconeIndexSummary.From(model, stats)).ConfigureAwait(false);
            }
        });
    }
}
