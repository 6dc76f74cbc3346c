using System.Management.Automation;
using VecMigrate.Engine.Files;

namespace VecMigrate.Commands;

/// <summary>New-FileSource: describes a VecMigrate file for Copy-VectorData to read; opens nothing.</summary>
[Cmdlet(VerbsCommon.New, "FileSource")]
[OutputType(typeof(FileSourceSpec))]
public sealed class NewFileSourceCommand : FileCmdlet
{
    protected override void ProcessRecord() => WriteObject(Create(() => new FileSourceSpec(FilePath())));
}
