using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Milvus;

namespace VecMigrate.Commands;

/// <summary>Get-MilvusCollection: collections with their entity counts, fields, indexes and load state.</summary>
[Cmdlet(VerbsCommon.Get, "MilvusCollection")]
[OutputType(typeof(MilvusCollectionInfo))]
public sealed class GetMilvusCollectionCommand : MilvusCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("Collection")]
    [ArgumentCompleter(typeof(MilvusCollectionCompleter))]
    public string[]? Name { get; set; }

    protected override void EndProcessing()
    {
        var client = OpenClient();
        RunAsync(async (writer, token) =>
        {
            var names = await NamePatterns.ResolveAsync(Name, async () => await client.ListCollectionsAsync(token).ConfigureAwait(false)).ConfigureAwait(false);
            foreach (var (name, literal) in names)
            {
                try
                {
                    await writer.WriteObjectAsync(await client.GetCollectionAsync(name, token).ConfigureAwait(false)).ConfigureAwait(false);
                }
                catch (VecMigrateException e) when (e.Kind == FailureKind.NotFound && literal)
                {
                    await writer.WriteErrorAsync(e).ConfigureAwait(false);
                }
            }
        });
    }
}
