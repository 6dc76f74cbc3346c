using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>Get-VecMigrateCheckpoint: the checkpoints kept in a database, or with -StateDirectory in a folder of files.</summary>
[Cmdlet(VerbsCommon.Get, "VecMigrateCheckpoint", DefaultParameterSetName = DatabaseSet)]
[OutputType(typeof(PgCheckpointState), ParameterSetName = new[] { DatabaseSet })]
[OutputType(typeof(MigrationCheckpoint), ParameterSetName = new[] { DirectorySet })]
public sealed class GetVecMigrateCheckpointCommand : CheckpointCmdlet
{
    /// <inheritdoc cref="CheckpointCmdlet.DatabaseSet"/>
    public new const string DatabaseSet = CheckpointCmdlet.DatabaseSet;

    /// <inheritdoc cref="CheckpointCmdlet.DirectorySet"/>
    public new const string DirectorySet = CheckpointCmdlet.DirectorySet;

    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgCheckpointCompleter))]
    public string[]? Name { get; set; }

    protected override void EndProcessing()
    {
        if (InDirectory)
        {
            var files = Files();
            foreach (var checkpoint in Await(files.ListAsync))
            {
                if (NamePatterns.Matches(Name, checkpoint.Name)) WriteObject(checkpoint);
            }
            return;
        }
        var connectionString = Connect();
        var found = Await(token => PgCheckpointStore.ListAsync(connectionString, Schema, null, token));
        // A split migration's partitions (big#3/8) come with their whole when it is asked for by name.
        var wholes = found.Where(c => c.Partitions is not null && NamePatterns.Matches(Name, c.Name)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var checkpoint in found)
        {
            if (NamePatterns.Matches(Name, checkpoint.Name)
                || (PartitionNames.TryParse(checkpoint.Name, out var whole, out _) && wholes.Contains(whole)))
            {
                WriteObject(checkpoint);
            }
        }
    }
}
