using System.Management.Automation;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Commands;

/// <summary>Import-VectorRecord: streams the records of a file VecMigrate wrote, in row order.</summary>
[Cmdlet(VerbsData.Import, "VectorRecord")]
[OutputType(typeof(VectorRecord))]
public sealed class ImportVectorRecordCommand : FileCmdlet
{
    /// <summary>A row number (a record's Position): reading starts at the row after it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StartAfter { get; set; }

    protected override void ProcessRecord()
    {
        var path = FilePath();
        var reader = Await(token => FileRecordReader.OpenAsync(path, token));
        WriteAll(reader.ReadAsync(StartAfter, StopToken), new ProgressMeter($"Importing records from {System.IO.Path.GetFileName(reader.Path)}"));
    }
}
