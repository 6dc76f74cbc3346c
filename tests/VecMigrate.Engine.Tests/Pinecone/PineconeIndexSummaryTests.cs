using VecMigrate.Engine.Pinecone;

namespace VecMigrate.Engine.Tests.Pinecone;

public sealed class PineconeIndexSummaryTests
{
    private static readonly PineconeIndexModel Model = new("movies", "movies-abc.svc.pinecone.io", 4, "cosine", "dense", PineconeDeployment.Serverless, true, "Ready");

    [Fact]
    public void Namespace_counts_call_the_default_namespace_empty_whichever_way_the_server_names_it()
    {
        var stats = new PineconeIndexStats(new Dictionary<string, long> { ["__default__"] = 5, ["alpha"] = 7, [""] = 1 }, 4, 13, "cosine", "dense");
        var summary = PineconeIndexSummary.From(Model, stats);
        Assert.Equal([new KeyValuePair<string, long>("", 6), new("alpha", 7)], summary.Namespaces!);
        Assert.Equal(13, summary.TotalVectorCount);
        Assert.Equal("(default) 6, alpha 7", summary.NamespaceCounts);
        Assert.Equal(("movies", "movies-abc.svc.pinecone.io", PineconeDeployment.Serverless), (summary.Name, summary.Host, summary.Deployment));
    }

    [Fact]
    public void An_index_whose_stats_were_not_read_has_no_counts_rather_than_zero()
    {
        var summary = PineconeIndexSummary.From(Model with { Ready = false, State = "Initializing" }, null);
        Assert.Null(summary.Namespaces);
        Assert.Null(summary.TotalVectorCount);
        Assert.Equal("", summary.NamespaceCounts);
    }
}
