using System.Management.Automation;
using VecMigrate.Engine.Postgres;

namespace VecMigrate.Commands;

/// <summary>The parameters every Postgres cmdlet shares: where to connect, as whom, and the schema.</summary>
public abstract class PgCmdlet : VecMigrateCmdlet
{
    /// <summary>Npgsql key=value text or a postgres:// URI; PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD fill in what it leaves out.</summary>
    [Parameter] public string? ConnectionString { get; set; }

    /// <summary>User and password; they win over the connection string's.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = "public";

    /// <summary>The connection settings; invalid ones end the command.</summary>
    private protected PgConnectionSettings Connect() => ResolvePgConnection(ConnectionString, Credential);
}
