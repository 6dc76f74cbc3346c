using System.Management.Automation;
using VecMigrate.Engine;
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
        // A file that cannot be read is reported by name and the next piped file still described.
        VecMigrateException? failure = null;
        var info = Await(async token =>
        {
            try
            {
                return await VectorFileInfo.ReadAsync(path, token).ConfigureAwait(false);
            }
            catch (VecMigrateException e)
            {
                failure = e;
                return null;
            }
        });
        if (failure is not null) WriteError(failure, path);
        else WriteObject(info);
    }
}
