using System.Management.Automation;
using VecMigrate.Engine;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>Remove-VecMigrateCheckpoint: forgets a migration's progress, so that the next run starts over.</summary>
[Cmdlet(VerbsCommon.Remove, "VecMigrateCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = DatabaseSet)]
[OutputType(typeof(void))]
public sealed class RemoveVecMigrateCheckpointCommand : CheckpointCmdlet
{
    /// <inheritdoc cref="CheckpointCmdlet.DatabaseSet"/>
    public new const string DatabaseSet = CheckpointCmdlet.DatabaseSet;

    /// <inheritdoc cref="CheckpointCmdlet.DirectorySet"/>
    public new const string DirectorySet = CheckpointCmdlet.DirectorySet;

    private ICheckpointStore? _store;
    private string _where = "";

    /// <summary>Exact names (pipe Get-VecMigrateCheckpoint's output to remove by pattern).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Remove without asking.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (_store is null)
        {
            var connectionString = InDirectory ? "" : Connect();
            _store = InDirectory ? Files() : PgCheckpointStore.Open(connectionString, Schema);
            _where = InDirectory ? _store.Location : $"{Schema}.{PgCheckpointStore.TableName} in {PgConnections.Describe(connectionString)}";
        }
        var (store, where) = (_store, _where);
        foreach (var name in Name)
        {
            if (!ShouldWrite($"Remove checkpoint '{name}' in {where}", "Remove-VecMigrateCheckpoint", destroys: true, Force)) continue;
            if (!Await(token => store.RemoveAsync(name, token)))
            {
                WriteError(new VecMigrateException(FailureKind.NotFound, InDirectory ? "CheckpointNotFound" : "PgCheckpointNotFound",
                    $"There is no checkpoint '{name}' in {where}.", name));
            }
        }
    }
}
