using System.Management.Automation;
using VecMigrate.Engine.Files;

namespace VecMigrate.Commands;

/// <summary>New-FileTarget: describes a file for Copy-VectorData to export into; writes nothing.</summary>
/// <remarks>-Force: replace the file if it exists (Copy-VectorData then asks with high impact).</remarks>
[Cmdlet(VerbsCommon.New, "FileTarget")]
[OutputType(typeof(FileTargetSpec))]
public sealed class NewFileTargetCommand : FileWriteCmdlet
{
    protected override void ProcessRecord() =>
        WriteObject(Create(() => new FileTargetSpec(FilePath()) { Overwrite = Force, BatchSize = BatchSize }));
}
