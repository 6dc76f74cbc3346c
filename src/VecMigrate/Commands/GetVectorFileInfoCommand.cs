using System.Management.Automation;
using VecMigrate.Engine.Files;

namespace VecMigrate.Commands;

/// <summary>Get-VectorFileInfo: what a VecMigrate file holds (records, vector spaces, dims, metrics, id kinds, origin).</summary>
[Cmdlet(VerbsCommon.Get, "VectorFileInfo")]
[OutputType(typeof(VectorFileInfo))]
public sealed class GetVectorFileInfoCommand : FileCmdlet
{
    protected override void ProcessRecord()
    {
        var path = FilePath();
        WriteObject(Await(token => VectorFileInfo.ReadAsync(path, token)));
    }
}
