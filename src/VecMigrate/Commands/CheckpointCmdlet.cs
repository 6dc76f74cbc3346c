using System.Management.Automation;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>
/// Where Get-/Remove-VecMigrateCheckpoint look: a Postgres database (the default, as before; PG* variables fill in
/// a missing connection string) or, with -StateDirectory, a folder of file checkpoints.
/// </summary>
public abstract class CheckpointCmdlet : VecMigrateCmdlet
{
    /// <summary>Checkpoints in the vecmigrate_checkpoint table of a Postgres database.</summary>
    public const string DatabaseSet = "Database";

    /// <summary>Checkpoints as JSON files in a folder (targets other than Postgres).</summary>
    public const string DirectorySet = "Directory";

    /// <summary>Npgsql key=value text or a postgres:// URI; PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD fill in what it leaves out.</summary>
    [Parameter(ParameterSetName = DatabaseSet)]
    public string? ConnectionString { get; set; }

    [Parameter(ParameterSetName = DatabaseSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter(ParameterSetName = DatabaseSet)]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = "public";

    /// <summary>A Microsoft Entra ID token as the password (Azure Database for PostgreSQL), as the Postgres cmdlets take it.</summary>
    [Parameter(ParameterSetName = DatabaseSet)]
    public PgAzureAuthentication AzureAuthentication { get; set; }

    /// <summary>The client id of a user-assigned managed identity, with -AzureAuthentication.</summary>
    [Parameter(ParameterSetName = DatabaseSet)]
    [ValidateNotNullOrEmpty]
    public string? AzureClientId { get; set; }

    /// <summary>The folder of file checkpoints, as Copy-VectorData -StateDirectory.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DirectorySet)]
    [ValidateNotNullOrEmpty]
    public string StateDirectory { get; set; } = "";

    private protected bool InDirectory => ParameterSetName == DirectorySet;

    private protected FileCheckpointStore Files() => new(SessionState.Path.GetUnresolvedProviderPathFromPSPath(StateDirectory));

    /// <summary>The connection string; invalid settings end the command.</summary>
    private protected string Connect() => ResolvePgConnection(ConnectionString, Credential, AzureAuthentication, AzureClientId).RevealConnectionString();
}
