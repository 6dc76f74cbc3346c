# Copy-VectorData in parallel lanes (-Parallel) and as workers sharing one migration (-Partition), as a user runs them:
# with PowerShell's own engines (ForEach-Object -Parallel, Start-ThreadJob), and what is refused before anything is
# read or written.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $qurl = $h.qdrantUrl; $qkey = $h.qdrantKey

    # A Postgres table of $Count rows read as the source (keys skewed: a tenth of them far apart).
    function New-SourceTable([string] $ConnectionString, [int] $Count) {
        $null = Invoke-Sql $ConnectionString @"
CREATE TABLE src (id bigint PRIMARY KEY, embedding vector(3), title text);
INSERT INTO src SELECT CASE WHEN g % 10 = 0 THEN 1000000000 + g * 7919 ELSE g END, ARRAY[g, g / 3.0, -g]::vector, 'doc ' || g
FROM generate_series(1, $Count) g;
"@
    }
    function Get-Differences([string] $ConnectionString) {
        Invoke-Sql $ConnectionString @"
SELECT count(*) FROM src s FULL JOIN dst d ON s.id::text = d.id::text
WHERE s.id IS NULL OR d.id IS NULL OR s.embedding <> d.embedding OR coalesce(to_jsonb(d)->>'title', to_jsonb(d)->'payload'->>'title') IS DISTINCT FROM s.title
"@
    }
}

Describe 'Copy-VectorData -Parallel' {
    BeforeAll {
        $pg = New-TestDatabase
        New-SourceTable $pg 3000
        $src = New-PgVectorSource -ConnectionString $pg -Table src
        $dst = New-PgVectorTarget -ConnectionString $pg -Table dst
    }

    It 'copies the table exactly in 3 lanes, shows the split in its summary, and resumes a finished copy to nothing' {
        $summary = Copy-VectorData $src $dst -Checkpoint lanes -Resume -Parallel 3
        $summary.Completed | Should -BeTrue
        $summary.PartitionCount | Should -Be 3
        $summary.PartitionsCompleted | Should -Be 3
        $summary.RecordsWritten | Should -Be 3000
        Get-Differences $pg | Should -Be 0
        ($summary | Format-List | Out-String) | Should -Match 'Partitions\s+: 3 of 3 complete; this run took 3 of them, in 3 lane\(s\)'

        $again = Copy-VectorData $src $dst -Checkpoint lanes -Resume -Parallel 3
        $again.AlreadyComplete | Should -BeTrue
        $again.RecordsWritten | Should -Be 0
        # Without -Parallel the split checkpoint is still resumed as split (one lane).
        (Copy-VectorData $src $dst -Checkpoint lanes -Resume).AlreadyComplete | Should -BeTrue
    }

    It 'lists the whole and each partition with Get-VecMigrateCheckpoint, and removes them together' {
        $list = @(Get-VecMigrateCheckpoint -ConnectionString $pg -Name lanes)
        $list.Name | Should -Be @('lanes', 'lanes#1/3', 'lanes#2/3', 'lanes#3/3')
        $list[0].Partitions | Should -Be 3
        $list[0].Records | Should -Be 3000
        ($list | Measure-Object -Property Records -Sum).Sum | Should -Be 6000
        ($list | Format-Table | Out-String) | Should -Match '3 partitions'
        ($list | Format-Table | Out-String) | Should -Match 'held by '
        Remove-VecMigrateCheckpoint -ConnectionString $pg -Name lanes -Confirm:$false
        @(Get-VecMigrateCheckpoint -ConnectionString $pg -Name 'lanes*') | Should -HaveCount 0
    }

    It 'is stopped by -TimeLimit with each lane committing what it read, and the next run finishes exactly' {
        $null = Invoke-Sql $pg 'DROP TABLE dst'
        $first = Copy-VectorData $src $dst -Checkpoint sliced -Resume -Parallel 2 -TimeLimit ([timespan]::FromMilliseconds(1))
        $first.Completed | Should -BeFalse
        $rest = Copy-VectorData $src $dst -Checkpoint sliced -Resume -Parallel 2
        $rest.Completed | Should -BeTrue
        $first.RecordsWritten + $rest.RecordsWritten | Should -Be 3000
        Get-Differences $pg | Should -Be 0
    }
}

Describe 'Workers sharing one migration with -Partition' {
    It 'ForEach-Object -Parallel workers each copy their partition, the last marks the whole complete' {
        $pg = New-TestDatabase
        New-SourceTable $pg 2000
        $src = New-PgVectorSource -ConnectionString $pg -Table src
        $dst = New-PgVectorTarget -ConnectionString $pg -Table dst
        $summaries = 1..4 | ForEach-Object -Parallel {
            Import-Module $using:Manifest
            Copy-VectorData $using:src $using:dst -Checkpoint shared -Resume -Partition "$_/4"
        } -ThrottleLimit 4
        @($summaries).Count | Should -Be 4
        ($summaries | Measure-Object -Property RecordsWritten -Sum).Sum | Should -Be 2000
        Get-Differences $pg | Should -Be 0
        (Get-VecMigrateCheckpoint -ConnectionString $pg -Name shared)[0].Completed | Should -BeTrue

        # A worker that names another count than the stored split is refused.
        { Copy-VectorData $src $dst -Checkpoint shared -Resume -Partition 1/3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'PartitionSplitMismatch,VecMigrate.Commands.CopyVectorDataCommand'
    }

    It 'thread jobs started at once on a new checkpoint agree on one split' {
        $pg = New-TestDatabase
        New-SourceTable $pg 1500
        $src = New-PgVectorSource -ConnectionString $pg -Table src
        $dst = New-PgVectorTarget -ConnectionString $pg -Table dst -Mode Upsert
        $jobs = 1..3 | ForEach-Object {
            Start-ThreadJob -ArgumentList $_, $Manifest, $src, $dst {
                param($i, $manifest, $src, $dst)
                Import-Module $manifest
                Copy-VectorData $src $dst -Checkpoint jobs -Resume -Partition "$i/3"
            }
        }
        $results = $jobs | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
        @($results | Where-Object Completed).Count | Should -Be 3
        Get-Differences $pg | Should -Be 0
        Invoke-Sql $pg "SELECT count(*) FROM vecmigrate_partition WHERE name = 'jobs'" | Should -Be 3
    }
}

Describe 'Copy-VectorData -Parallel into a Qdrant collection (partitions kept in the checkpoint folder)' {
    It 'copies the table exactly in 3 lanes, lists the split in the folder, and resumes a finished copy to nothing' {
        $pg = New-TestDatabase
        New-SourceTable $pg 1500
        $state = Join-Path ([IO.Path]::GetTempPath()) (New-UniqueName 'split')
        $collection = New-UniqueName 'lanes'
        $src = New-PgVectorSource -ConnectionString $pg -Table src
        $dst = New-QdrantTarget -Url $qurl -ApiKey $qkey -Collection $collection -Distance Dot
        try {
            $summary = Copy-VectorData $src $dst -Checkpoint qlanes -Resume -Parallel 3 -StateDirectory $state
            $summary.Completed | Should -BeTrue
            $summary.PartitionsCompleted | Should -Be 3
            $summary.RecordsWritten | Should -Be 1500
            (Get-QdrantCollection -Url $qurl -ApiKey $qkey -Name $collection).PointsCount | Should -Be 1500
            $a = Get-PgVector -ConnectionString $pg -Table src | Measure-VectorDigest
            $b = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $collection | Measure-VectorDigest
            (Compare-VectorDigest $a $b).Equal | Should -BeTrue

            $whole = Get-VecMigrateCheckpoint -StateDirectory $state -Name qlanes
            $whole.Partitions | Should -Be 3
            $whole.Records | Should -Be 1500
            $whole.Completed | Should -BeTrue
            (Copy-VectorData $src $dst -Checkpoint qlanes -Resume -Parallel 3 -StateDirectory $state).AlreadyComplete | Should -BeTrue
            Remove-VecMigrateCheckpoint -StateDirectory $state -Name qlanes -Confirm:$false
            @(Get-VecMigrateCheckpoint -StateDirectory $state) | Should -HaveCount 0
        }
        finally {
            Remove-Item $state -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'What is refused before anything is read or written' {
    BeforeAll {
        $pg = New-TestDatabase
        New-SourceTable $pg 10
        $src = New-PgVectorSource -ConnectionString $pg -Table src
    }

    It '<Case>' -ForEach @(
        @{ Case = '-Parallel without -Checkpoint'; Id = 'PartitionNeedsCheckpoint'; Extra = @{ Parallel = 2 }; Target = 'pg' }
        @{ Case = '-Parallel with -Partition'; Id = 'PartitionWithParallel'; Extra = @{ Parallel = 2; Partition = '1/2'; Checkpoint = 'x' }; Target = 'pg' }
        @{ Case = 'a partition that is not i/N'; Id = 'PartitionInvalid'; Extra = @{ Partition = '5/4'; Checkpoint = 'x' }; Target = 'pg' }
        @{ Case = 'a Replace target, which empties the table first'; Id = 'MigrationTargetCannotSplit'; Extra = @{ Parallel = 2; Checkpoint = 'x' }; Target = 'replace' }
        @{ Case = 'a file target, one file that lanes cannot share'; Id = 'MigrationTargetCannotSplit'; Extra = @{ Parallel = 2; Checkpoint = 'x' }; Target = 'file' }
        @{ Case = 'a worker''s partition of a source that cannot be split (a gzip file: one reader feeds -Parallel lanes, workers cannot share it)'; Id = 'MigrationSourceCannotSplit'; Extra = @{ Partition = '1/2'; Checkpoint = 'x' }; Target = 'pg'; Source = 'gz' }
    ) {
        $target = switch ($Target) {
            'pg' { New-PgVectorTarget -ConnectionString $pg -Table refused }
            'replace' { New-PgVectorTarget -ConnectionString $pg -Table refused -Mode Replace }
            'file' { New-FileTarget -Path (Join-Path ([IO.Path]::GetTempPath()) "$(New-UniqueName 'refused').jsonl") }
        }
        $from = if ($Source -eq 'gz') {
            # The sample, gzipped: a JSONL.gz file is its JSONL text through gzip.
            $gz = Join-Path ([IO.Path]::GetTempPath()) "$(New-UniqueName 'refused').jsonl.gz"
            $in = [IO.File]::OpenRead((Join-Path $PSScriptRoot '..' '..' 'samples' 'docs.jsonl'))
            $out = [IO.Compression.GZipStream]::new([IO.File]::Create($gz), [IO.Compression.CompressionMode]::Compress)
            try { $in.CopyTo($out) } finally { $out.Dispose(); $in.Dispose() }
            New-FileSource -Path $gz
        } else { $src }
        { Copy-VectorData $from $target @Extra -Force -ErrorAction Stop } | Should -Throw -ErrorId "$Id,VecMigrate.Commands.CopyVectorDataCommand"
        Invoke-Sql $pg "SELECT count(*) FROM pg_tables WHERE tablename = 'refused'" | Should -Be 0
    }
}

Describe 'docs/runbook-fanout.ps1 with docs/runbook-partition.ps1 as its child runbook' {
    BeforeAll {
        # The runbooks import the module by name, as an Automation account does: a folder VecMigrate on PSModulePath.
        $savedModulePath = Enable-ModuleByName
    }
    AfterAll {
        $env:PSModulePath = $savedModulePath
    }

    It 'starts a child job per partition, joins them, and ends with the table exact and the migration complete' {
        $pg = New-TestDatabase
        New-SourceTable $pg 2500
        $db = ($pg -split ';' | Where-Object { $_ -like 'Database=*' }) -replace '^Database=', ''
        $pgHost = "127.0.0.1;Port=$($h.postgresPort)"
        $child = Join-Path $RepoRoot 'docs' 'runbook-partition.ps1'

        # What Azure Automation and Az.Automation provide, replaced by local functions: assets, and child jobs as thread jobs.
        function Connect-AzAccount([switch] $Identity) { }
        function Get-AutomationVariable([string] $Name) { $pgHost }
        function Get-AutomationPSCredential([string] $Name) { [pscredential]::new('postgres', (ConvertTo-SecureString 'not-checked' -AsPlainText -Force)) }
        $started = [System.Collections.Generic.List[object]]::new()
        function Start-AzAutomationRunbook([string] $ResourceGroupName, [string] $AutomationAccountName, [string] $Name, [hashtable] $Parameters) {
            $job = Start-ThreadJob -ArgumentList $child, $Parameters, $pgHost {
                param($child, $parameters, $pgHost)
                function Get-AutomationVariable([string] $Name) { $pgHost }
                function Get-AutomationPSCredential([string] $Name) { [pscredential]::new('postgres', (ConvertTo-SecureString 'not-checked' -AsPlainText -Force)) }
                & $child @parameters
            }
            $started.Add($Parameters.Partition)
            [pscustomobject]@{ JobId = $job.InstanceId }
        }
        function Get-AzAutomationJob([string] $ResourceGroupName, [string] $AutomationAccountName, [guid] $Id) {
            $state = (Get-Job -InstanceId $Id).State
            [pscustomobject]@{ Status = if ("$state" -in 'Completed', 'Failed', 'Stopped') { "$state" } else { 'Running' } }
        }

        $out = & (Join-Path $RepoRoot 'docs' 'runbook-fanout.ps1') -Workers 3 -Checkpoint fanout -SourceDatabase $db -SourceTable src `
            -TargetDatabase $db -TargetTable dst -PollInterval ([timespan]::FromMilliseconds(200))
        $text = $out -join "`n"
        # What the child jobs said, so that a child that did not finish its partition in the first round says why.
        $children = (Get-Job | ForEach-Object { $_.ChildJobs } | ForEach-Object { "$($_.State): $($_.Error -join '; ') $($_.Output | Select-Object -Last 1)" }) -join "`n"
        $text | Should -Match "Round 1: starting 3 child job\(s\) for partition\(s\) 1/3, 2/3, 3/3"
        $text | Should -Match "Migration 'fanout' is complete: 2,500 records in 3 partitions\."
        # One round: every child finishes its partition (a child that found the split half made used to stop with
        # PartitionCheckpointNotSplit; what the children said is shown if one does not).
        $text | Should -Not -Match 'Round 2' -Because $children
        @($started) | Should -Be @('1/3', '2/3', '3/3')
        Get-Differences $pg | Should -Be 0
        # The child runbooks built the HNSW index once the last partition was in.
        Invoke-Sql $pg "SELECT count(*) FROM pg_indexes WHERE tablename = 'dst' AND indexdef LIKE '%hnsw%'" | Should -Be 1
        Get-Job | Remove-Job -Force
    }
}
