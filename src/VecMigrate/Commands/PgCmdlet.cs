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

    /// <summary>A Microsoft Entra ID token as the password (Azure Database for PostgreSQL): ManagedIdentity or Default.</summary>
    [Parameter] public PgAzureAuthentication AzureAuthentication { get; set; }

    /// <summary>The client id of a user-assigned managed identity, with -AzureAuthentication.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AzureClientId { get; set; }

    /// <summary>The connection settings; invalid ones end the command.</summary>
    private protected PgConnectionSettings Connect() => ResolvePgConnection(ConnectionString, Credential, AzureAuthentication, AzureClientId);
}

/// <summary>The parameters of the cmdlets that write a table (Write-PgVector, New-PgVectorTarget): one set, so the twins cannot drift.</summary>
public abstract class PgWriteCmdlet : PgCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = PgWriteOptions.DefaultBatchSize;

    [Parameter] public PgWriteMode Mode { get; set; } = PgWriteMode.Append;
    [Parameter] public PgVectorType VectorType { get; set; } = PgVectorType.Vector;
    [Parameter] public PgIdType? IdType { get; set; }

    [Parameter]
    [ValidateRange(1, PgVectorCodec.SparseVecMaxDim)]
    public int? SparseDimension { get; set; }

    [Parameter] public PgIndexKind Index { get; set; } = PgIndexKind.None;

    [Parameter]
    [ValidateDistanceMetric]
    public Engine.Records.DistanceMetric? IndexMetric { get; set; }

    /// <summary>The write these parameters ask for, into the database of <paramref name="connectionString"/>.</summary>
    private protected PgWriteOptions WriteOptions(string connectionString) => new()
    {
        ConnectionString = connectionString, Schema = Schema, Table = Table, BatchSize = BatchSize, Mode = Mode,
        VectorType = VectorType, IdType = IdType, SparseDimension = SparseDimension, Index = Index, IndexMetric = IndexMetric,
    };
}

/// <summary>The parameters of the cmdlets that read a table (Get-PgVector, New-PgVectorSource): one set, so the twins cannot drift.</summary>
public abstract class PgReadCmdlet : PgCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PgTableCompleter))]
    public string Table { get; set; } = "";

    /// <summary>The key column; the primary key when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyColumn { get; set; }

    /// <summary>Vector columns to read; every pgvector column when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? VectorColumn { get; set; }

    /// <summary>Columns that make the payload; every other column when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Column { get; set; }

    /// <summary>An SQL condition on the rows, run as it is: it is your own SQL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Where { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int PageSize { get; set; } = PgReadOptions.DefaultPageSize;

    /// <summary>The read these parameters ask for, from the database of <paramref name="connectionString"/> (without a start position).</summary>
    private protected PgReadOptions ReadOptions(string connectionString) => new()
    {
        ConnectionString = connectionString, Schema = Schema, Table = Table, KeyColumn = KeyColumn, VectorColumns = VectorColumn,
        Columns = Column, Where = Where, PageSize = PageSize,
    };
}
