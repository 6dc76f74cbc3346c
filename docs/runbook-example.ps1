#Requires -Version 7.4
<#
.SYNOPSIS
    Azure Automation runbook: copies a Qdrant collection into an Azure Database for PostgreSQL table in slices. Each
    job goes on where the previous one stopped; once the copy is complete, jobs only report that.

.DESCRIPTION
    Schedule it (e.g. every 3 hours) on a PowerShell 7.4 runtime with the VecMigrate module imported into the
    Automation account. Azure stops a cloud job after 3 hours; -TimeLimit ends the copy a little before that, so
    that the job commits what it read and writes its summary. Should a job be stopped anyway (or crash), nothing is
    lost: the checkpoint lives in the target database and moves in the same transaction as each batch, and the next
    job resumes after the last committed record.

    Postgres: by default the job signs in as the Automation account's managed identity (-AzureAuthentication
    ManagedIdentity): no password is stored anywhere; the token is a Microsoft Entra ID token that Azure.Identity
    gets from the job's sandbox (IDENTITY_ENDPOINT) and Npgsql renews for every connection while the copy runs. The
    server needs the identity as a role (see the README, "Azure"). With -PgAuthentication Credential it signs in with
    the user and password of an Automation credential instead.

    Automation assets this runbook reads (which secret goes where):
      variable    VecMigrate-QdrantUrl      https://qdrant.example.com:6333
      credential  VecMigrate-Qdrant         any user name; the password is Qdrant's API key (passed to -ApiKey as is)
      variable    VecMigrate-PgHost         pg-vectors.postgres.database.azure.com
      variable    VecMigrate-PgRole         the managed identity's role in Postgres (its name in Entra ID)
      credential  VecMigrate-Postgres       only with -PgAuthentication Credential: the migrating role and its password

    See docs/resume.md for what -Resume and -TimeLimit do.

.NOTES
    Do not let two jobs of this runbook overlap: both would write the same checkpoint. Schedule slices at least
    as far apart as -TimeLimit (or split the migration into partitions: docs/runbook-fanout.ps1).
#>
param(
    [string] $Collection = 'docs',
    [string] $Database = 'vectors',
    [string] $Table = 'docs',
    [string] $Checkpoint = 'nightly-docs',
    [ValidateSet('ManagedIdentity', 'Credential')]
    [string] $PgAuthentication = 'ManagedIdentity',
    # Azure Database for PostgreSQL takes TLS connections only.
    [string] $SslMode = 'Require',
    [ValidateRange(1, 1000000)]
    [int] $BatchSize = 2000,
    # Under Azure's 3 hours, with room to commit and report.
    [timespan] $TimeLimit = (New-TimeSpan -Hours 2 -Minutes 45)
)

$ErrorActionPreference = 'Stop'
Import-Module VecMigrate

# Secrets come from the Automation account, never from the script; VecMigrate keeps them out of its output and logs.
$qdrantUrl = Get-AutomationVariable -Name 'VecMigrate-QdrantUrl'
$qdrantKey = Get-AutomationPSCredential -Name 'VecMigrate-Qdrant'   # -ApiKey takes the credential's password
$pgHost = Get-AutomationVariable -Name 'VecMigrate-PgHost'
$postgres = if ($PgAuthentication -eq 'ManagedIdentity') {
    @{ ConnectionString = "Host=$pgHost;Database=$Database;Username=$(Get-AutomationVariable -Name 'VecMigrate-PgRole');SSL Mode=$SslMode"
       AzureAuthentication = 'ManagedIdentity' }
}
else {
    @{ ConnectionString = "Host=$pgHost;Database=$Database;SSL Mode=$SslMode"; Credential = Get-AutomationPSCredential -Name 'VecMigrate-Postgres' }
}

$source = New-QdrantSource -Url $qdrantUrl -ApiKey $qdrantKey -Collection $Collection
$target = New-PgVectorTarget @postgres -Table $Table -Mode Append -BatchSize $BatchSize

# The same command for the first slice and every one after it: -Resume starts the checkpoint when it does not
# exist, continues it when it does, and does nothing when it is complete. -Verbose puts retries and reconnects
# in the job's verbose stream.
$summary = Copy-VectorData -Source $source -Target $target -Checkpoint $Checkpoint -Resume -TimeLimit $TimeLimit -Verbose

$state = Get-VecMigrateCheckpoint @postgres -Name $Checkpoint

if ($summary.AlreadyComplete) {
    Write-Output "Checkpoint '$Checkpoint' is complete: $($state.Records) records in $($summary.Target). Nothing to do; the schedule can be removed."
}
elseif ($summary.Completed) {
    Write-Output ("Copy complete: {0:N0} records written in this slice, {1:N0} in all, in {2:hh\:mm\:ss}." -f
        $summary.RecordsWritten, $summary.TotalRecords, $summary.Elapsed)
}
else {
    Write-Output ("Slice done: {0:N0} records written in {1:hh\:mm\:ss} ({2:N0}/s), {3:N0} in all; the next job resumes after {4}." -f
        $summary.RecordsWritten, $summary.Elapsed, $summary.RecordsPerSecond, $state.Records, $state.Position)
}

# The job's output ends with the summary (an object: the job's output shows it as a list) and the checkpoint as the
# database holds it.
$summary
$state | Format-List | Out-String | Write-Output
