using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>Remove-VecMigrateCheckpoint: forgets a migration's progress, so that the next run starts over.</summary>
[Cmdlet(VerbsCommon.Remove, "VecMigrateCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveVecMigrateCheckpointCommand : PgCmdlet
{
    private string? _connectionString;

    /// <summary>Exact names (pipe Get-VecMigrateCheckpoint's output to remove by pattern).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Remove without asking.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        _connectionString ??= Connect().RevealConnectionString();
        var where = $"{Schema}.{PgCheckpointStore.TableName} in {PgConnections.Describe(_connectionString)}";
        foreach (var name in Name)
        {
            if (NeedsConfirmation(ConfirmImpact.High, Force) && !ShouldProcess($"checkpoint '{name}' in {where}", "Remove")) continue;
            if (!Await(token => PgCheckpointStore.RemoveAsync(_connectionString, name, Schema, token)))
            {
                WriteError(new VecMigrateException(FailureKind.NotFound, "PgCheckpointNotFound",
                    $"There is no checkpoint '{name}' in {where}.", name));
            }
        }
    }
}
