using System.Management.Automation;
using VecMigrate.Engine.Files;

namespace VecMigrate.Commands;

/// <summary>New-FileTarget: describes a file for Copy-VectorData to export into; writes nothing.</summary>
[Cmdlet(VerbsCommon.New, "FileTarget")]
[OutputType(typeof(FileTargetSpec))]
public sealed class NewFileTargetCommand : FileCmdlet
{
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = FileSinkOptions.DefaultBatchSize;

    /// <summary>Replace the file if it exists (Copy-VectorData then asks with high impact).</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() =>
        WriteObject(Create(() => new FileTargetSpec(FilePath()) { Overwrite = Force, BatchSize = BatchSize }));
}
