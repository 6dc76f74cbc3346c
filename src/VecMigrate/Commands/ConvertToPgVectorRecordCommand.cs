using System.Collections;
using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Commands;

/// <summary>
/// ConvertTo-PgVectorRecord: gives records the row shape of a table (typed columns from payload fields, chosen
/// column names), and makes records of ordinary objects (hashtables, Import-Csv rows, ConvertFrom-Json output).
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "PgVectorRecord")]
[OutputType(typeof(VectorRecord))]
public sealed class ConvertToPgVectorRecordCommand : VecMigrateCmdlet
{
    private RecordShaper? _shaper;
    private long _objects;

    /// <summary>A record, or any object with an id and a vector property.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public object InputObject { get; set; } = null!;

    /// <summary>Typed columns: payload field = type name (RecordShaper.ParseType).</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Column { get; set; }

    [Parameter]
    [ValidateNotNull]
    public IDictionary? Rename { get; set; }

    [Parameter]
    [ValidateRange(0, 1_000_000)]
    public int InferTypes { get; set; }

    [Parameter] public PayloadRest Payload { get; set; } = PayloadRest.Rest;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string IdProperty { get; set; } = "id";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] VectorProperty { get; set; } = ["embedding"];

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string IdColumn { get; set; } = "id";

    [Parameter]
    [ValidateNotNull]
    public IDictionary? VectorColumn { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PayloadColumn { get; set; }

    protected override void BeginProcessing() => _shaper = Create(() => new RecordShaper(new ShapeOptions
    {
        Columns = PowerShellValues.StringPairs(Column).Select(p => new ColumnSpec(p.Key, RecordShaper.ParseType(p.Value), p.Key)).ToList(),
        Rename = PowerShellValues.StringPairs(Rename).ToDictionary(StringComparer.Ordinal),
        InferFrom = InferTypes,
        Payload = Payload,
        IdColumn = IdColumn,
        VectorColumns = PowerShellValues.StringPairs(VectorColumn).ToDictionary(StringComparer.Ordinal),
        PayloadColumn = PayloadColumn,
    }));

    protected override void ProcessRecord()
    {
        _objects++;
        var record = (InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject) as VectorRecord;
        if (record is null)
        {
            try
            {
                record = ObjectRecords.FromFields(PowerShellValues.Fields(InputObject), IdProperty, VectorProperty, $"input object {_objects}");
            }
            catch (VecMigrateException e)
            {
                WriteError(e, InputObject);
                return;
            }
        }
        Emit(_shaper!.Add(record));
    }

    protected override void EndProcessing() => Emit(_shaper!.Complete());

    private void Emit(IReadOnlyList<RecordShaper.Outcome> outcomes)
    {
        foreach (var outcome in outcomes)
        {
            if (outcome.Record is { } converted) WriteObject(converted);
            else WriteError(outcome.Error!);
        }
    }
}
