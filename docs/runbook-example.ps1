#Requires -Version 7.4
<#
.SYNOPSIS
    Azure Automation runbook: copies a Qdrant collection into a Postgres/pgvector table in slices. Each job goes
    on where the previous one stopped; once the copy is complete, jobs only report that.

.DESCRIPTION
    Schedule it (e.g. every 3 hours) on a PowerShell 7.4 runtime with the VecMigrate module imported into the
    Automation account. Azure stops a cloud job after 3 hours; -TimeLimit ends the copy a little before that, so
    that the job commits what it read and writes its summary. Should a job be stopped anyway (or crash), nothing is
    lost: the checkpoint lives in the target database and moves in the same transaction as each batch, and the next
    job resumes after the last committed record.

    Automation assets this runbook reads:
      variable    VecMigrate-QdrantUrl      https://qdrant.example.com:6333
      variable    VecMigrate-QdrantApiKey   (encrypted)
      variable    VecMigrate-PgHost         pg-vectors.postgres.database.azure.com
      credential  VecMigrate-Postgres       user name and password of the migrating role

    See docs/resume.md for what -Resume and -TimeLimit do.

.NOTES
    Do not let two jobs of this runbook overlap: both would write the same checkpoint. Schedule slices at least
    as far apart as -TimeLimit.
#>
param(
    [string] $Collection = 'docs',
    [string] $Database = 'vectors',
    [string] $Table = 'docs',
    [string] $Checkpoint = 'nightly-docs',
    # Under Azure's 3 hours, with room to commit and report.
    [timespan] $TimeLimit = (New-TimeSpan -Hours 2 -Minutes 45)
)

$ErrorActionPreference = 'Stop'
Import-Module VecMigrate

# Secrets come from the Automation account, never from the script; VecMigrate keeps them out of its output and logs.
$qdrantUrl = Get-AutomationVariable -Name 'VecMigrate-QdrantUrl'
$qdrantKey = ConvertTo-SecureString (Get-AutomationVariable -Name 'VecMigrate-QdrantApiKey') -AsPlainText -Force
$pgHost = Get-AutomationVariable -Name 'VecMigrate-PgHost'
$pgCredential = Get-AutomationPSCredential -Name 'VecMigrate-Postgres'

$source = New-QdrantSource -Url $qdrantUrl -ApiKey $qdrantKey -Collection $Collection
$target = New-PgVectorTarget -ConnectionString "Host=$pgHost;Database=$Database;SSL Mode=Require" -Credential $pgCredential `
    -Table $Table -Mode Append -BatchSize 2000

# The same command for the first slice and every one after it: -Resume starts the checkpoint when it does not
# exist, continues it when it does, and does nothing when it is complete. -Verbose puts retries and reconnects
# in the job's verbose stream.
$summary = Copy-VectorData -Source $source -Target $target -Checkpoint $Checkpoint -Resume -TimeLimit $TimeLimit -Verbose

$state = Get-VecMigrateCheckpoint -Name $Checkpoint -ConnectionString "Host=$pgHost;Database=$Database;SSL Mode=Require" -Credential $pgCredential

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

# The job's output keeps the whole summary and the checkpoint as the database holds it.
$summary | Format-List | Out-String | Write-Output
$state | Format-List | Out-String | Write-Output
