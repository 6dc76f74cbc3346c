using System.Management.Automation;
using VecMigrate.Engine.Pinecone;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Get-PineconeVector: streams an index's records, namespace by namespace, in id order.</summary>
[Cmdlet(VerbsCommon.Get, "PineconeVector", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(VectorRecord))]
public sealed class GetPineconeVectorCommand : PineconeCmdlet
{
    /// <summary>The index is found by name through the control plane.</summary>
    public const string ByNameSet = "ByName";

    /// <summary>The index's data-plane host is given: the control plane is not asked.</summary>
    public const string ByHostSet = "ByHost";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PineconeIndexCompleter))]
    public string? IndexName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByHostSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? IndexHost { get; set; }

    /// <summary>Namespaces to read, in this order; '' is the default namespace. All when left out.</summary>
    [Parameter]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[]? Namespace { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter]
    [ValidateRange(1, PineconeClient.MaxListLimit)]
    public int PageSize { get; set; } = PineconeClient.MaxListLimit;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var name = IndexName ?? IndexHost!;
        var source = new PineconeSource(OpenClient(), new PineconeSourceOptions { IndexName = name, IndexHost = IndexHost });
        var options = new PineconeReadOptions
        {
            Namespaces = Namespace,
            IdPrefix = Prefix,
            Ids = Id,
            PageSize = PageSize,
            StartAfter = StartAfter,
        };
        WriteAll(source.ReadAsync(options), new ProgressMeter($"Reading Pinecone index '{name}'"));
    }
}
