using System.Management.Automation;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>Get-VecMigrateCheckpoint: the checkpoints Write-PgVector -Checkpoint keeps in a database.</summary>
[Cmdlet(VerbsCommon.Get, "VecMigrateCheckpoint")]
[OutputType(typeof(PgCheckpointState))]
public sealed class GetVecMigrateCheckpointCommand : PgCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string[]? Name { get; set; }

    protected override void EndProcessing()
    {
        var connectionString = Connect().RevealConnectionString();
        var found = Await(token => PgCheckpointStore.ListAsync(connectionString, Schema, null, token));
        foreach (var checkpoint in found)
        {
            if (NamePatterns.Matches(Name, checkpoint.Name)) WriteObject(checkpoint);
        }
    }
}
