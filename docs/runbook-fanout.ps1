#Requires -Version 7.4
<#
.SYNOPSIS
    Azure Automation parent runbook: fans one large pgvector migration out to N child jobs of
    docs/runbook-partition.ps1 and joins them, round after round, until the migration is complete.

.DESCRIPTION
    A table too big for one 3-hour job is shared by N jobs running side by side (each on its own Automation sandbox,
    each with its own COPY connection into the target). Each round starts one child job per partition that is not
    complete, waits for them, and reads the checkpoint: the whole migration's state is kept in the target database,
    so a round that ends early (a child cut off after its time limit, or failed) is simply followed by another. The
    parent is cut off after 3 hours too: run it on a schedule, and the next run goes on where this one stopped
    (children of an earlier run that still hold their partitions are left to finish; their partitions are skipped).

    Needs the Az.Automation module and the Automation account's managed identity with the "Automation Job Operator"
    role on the account itself (Connect-AzAccount -Identity).
#>
param(
    [string] $ResourceGroupName = 'rg-vectors',
    [string] $AutomationAccountName = 'aa-vectors',
    [string] $ChildRunbook = 'Copy-VectorPartition',
    [ValidateRange(1, 64)] [int] $Workers = 8,
    [string] $Checkpoint = 'big-docs',
    [string] $SourceDatabase = 'vectors',
    [string] $SourceTable = 'docs',
    [string] $TargetDatabase = 'vectors',
    [string] $TargetTable = 'docs',
    [int] $MaxRounds = 3,
    [timespan] $PollInterval = (New-TimeSpan -Seconds 30)
)

$ErrorActionPreference = 'Stop'
Import-Module VecMigrate
$null = Connect-AzAccount -Identity
$account = @{ ResourceGroupName = $ResourceGroupName; AutomationAccountName = $AutomationAccountName }

$targetHost = Get-AutomationVariable -Name 'VecMigrate-TargetPgHost'
$target = @{
    ConnectionString = "Host=$targetHost;Database=$TargetDatabase"
    Credential       = Get-AutomationPSCredential -Name 'VecMigrate-TargetPostgres'
}

function Get-Split {
    # The whole and its partitions, as the target database holds them (nothing before the first child made the split).
    $rows = @(Get-VecMigrateCheckpoint @target -Name $Checkpoint)
    [pscustomobject]@{
        Whole = $rows | Where-Object Name -EQ $Checkpoint
        Open  = @($rows | Where-Object { $_.Name -ne $Checkpoint -and -not $_.Completed } | ForEach-Object { ($_.Name -split '#', 2)[1] })
    }
}

for ($round = 1; $round -le $MaxRounds; $round++) {
    $split = Get-Split
    if ($split.Whole.Completed) { break }
    # Before the split exists every partition is open; the children agree on one split of $Workers partitions.
    $open = if ($split.Whole) { $split.Open } else { 1..$Workers | ForEach-Object { "$_/$Workers" } }
    Write-Output "Round ${round}: starting $($open.Count) child job(s) for partition(s) $($open -join ', ')"
    $jobs = foreach ($partition in $open) {
        Start-AzAutomationRunbook @account -Name $ChildRunbook -Parameters @{
            Partition = $partition; Checkpoint = $Checkpoint
            SourceDatabase = $SourceDatabase; SourceTable = $SourceTable; TargetDatabase = $TargetDatabase; TargetTable = $TargetTable
        }
    }
    # Join: wait until every child of this round has ended, however it ended.
    do {
        Start-Sleep -Seconds $PollInterval.TotalSeconds
        $states = @($jobs | ForEach-Object { (Get-AzAutomationJob @account -Id $_.JobId).Status })
    } while (@($states | Where-Object { $_ -notin 'Completed', 'Failed', 'Stopped', 'Suspended' }).Count -gt 0)
    $failed = @($states | Where-Object { $_ -ne 'Completed' }).Count
    if ($failed) { Write-Warning "$failed child job(s) of round $round did not complete; their partitions go to the next round." }
}

$split = Get-Split
if ($split.Whole.Completed) {
    Write-Output ("Migration '{0}' is complete: {1:N0} records in {2} partitions." -f $Checkpoint, $split.Whole.Records, $split.Whole.Partitions)
}
else {
    Write-Output ("Migration '{0}' is not complete yet: {1:N0} records so far; partitions still open: {2}. The next run goes on." -f
        $Checkpoint, $split.Whole.Records, ($split.Open -join ', '))
}
Get-VecMigrateCheckpoint @target -Name $Checkpoint | Format-Table | Out-String | Write-Output
