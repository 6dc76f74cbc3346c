#Requires -Version 7.4
<#
.SYNOPSIS
    Azure Automation child runbook: copies one partition of a pgvector table into another Postgres server, as one
    of several jobs that share one migration (started by docs/runbook-fanout.ps1, or by hand).

.DESCRIPTION
    Every job runs the same line with its own -Partition i/N. The first job to run splits the source table into N
    key ranges and stores the split with the checkpoint in the target database; each job then copies its range under
    a checkpoint of its own (big#3/8), each batch committed with its position and checked against the job's lease on
    the partition in one transaction. A job stopped after its time limit commits what it read; a job that crashed
    leaves its partition to the next job for it once its lease (-LeaseTime, 5 minutes) has run out. The job that
    completes the last partition marks the whole migration complete and builds the target's vector index.

    Automation assets this runbook reads:
      variable    VecMigrate-SourcePgHost   old-vectors.example.com
      variable    VecMigrate-TargetPgHost   vectors.postgres.database.azure.com
      credential  VecMigrate-SourcePostgres a role that can read the source table
      credential  VecMigrate-TargetPostgres a role that can create the target table and the checkpoint tables
#>
param(
    [Parameter(Mandatory)] [string] $Partition,
    [string] $Checkpoint = 'big-docs',
    [string] $SourceDatabase = 'vectors',
    [string] $SourceTable = 'docs',
    [string] $TargetDatabase = 'vectors',
    [string] $TargetTable = 'docs',
    # Under Azure's 3 hours, with room to commit and report.
    [timespan] $TimeLimit = (New-TimeSpan -Hours 2 -Minutes 45)
)

$ErrorActionPreference = 'Stop'
Import-Module VecMigrate

$sourceHost = Get-AutomationVariable -Name 'VecMigrate-SourcePgHost'
$targetHost = Get-AutomationVariable -Name 'VecMigrate-TargetPgHost'
$from = New-PgVectorSource -ConnectionString "Host=$sourceHost;Database=$SourceDatabase" `
    -Credential (Get-AutomationPSCredential -Name 'VecMigrate-SourcePostgres') -Table $SourceTable
# Append: each partition's batches are new rows; a resumed partition goes on after its last committed key. The HNSW
# index is built once, after the last partition (with the metric your searches use; a source table with an index
# of its own names it).
$to = New-PgVectorTarget -ConnectionString "Host=$targetHost;Database=$TargetDatabase" `
    -Credential (Get-AutomationPSCredential -Name 'VecMigrate-TargetPostgres') -Table $TargetTable -Mode Append -BatchSize 2000 `
    -Index Hnsw -IndexMetric Cosine

$summary = Copy-VectorData -Source $from -Target $to -Checkpoint $Checkpoint -Resume -Partition $Partition -TimeLimit $TimeLimit
Write-Output ("Partition {0}: {1:N0} records written in {2:hh\:mm\:ss}; {3} of {4} partitions complete{5}." -f
    $Partition, $summary.RecordsWritten, $summary.Elapsed, $summary.PartitionsCompleted, $summary.PartitionCount,
    $(if ($summary.Completed) { '' } else { '; this partition goes on in the next job' }))
# The job's output ends with the summary, for the parent to read.
$summary
