using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Qdrant;

namespace VecMigrate.Commands;

/// <summary>Get-QdrantCollection: the collections of a Qdrant server, with their size, state and vector spaces.</summary>
[Cmdlet(VerbsCommon.Get, "QdrantCollection")]
[OutputType(typeof(QdrantCollectionInfo))]
public sealed class GetQdrantCollectionCommand : QdrantCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QdrantCollectionCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        using var client = OpenClient();
        RunAsync(async (writer, token) =>
        {
            var names = await NamePatterns.ResolveAsync(Name, async () => await client.ListCollectionsAsync(token).ConfigureAwait(false)).ConfigureAwait(false);
            foreach (var (name, literal) in names)
            {
                QdrantCollectionInfo info;
                try
                {
                    info = await client.GetCollectionAsync(name, token).ConfigureAwait(false);
                }
                catch (VecMigrateException e) when (e.Kind == FailureKind.NotFound && literal)
                {
                    await writer.WriteErrorAsync(e).ConfigureAwait(false);
                    continue;
                }
                // The url travels with the collection, so that piping it to Get-QdrantPoint reads the same server.
                var output = PSObject.AsPSObject(info);
                output.Properties.Add(new PSNoteProperty(nameof(Url), client.Endpoint));
                await writer.WriteObjectAsync(output).ConfigureAwait(false);
            }
        });
    }
}
