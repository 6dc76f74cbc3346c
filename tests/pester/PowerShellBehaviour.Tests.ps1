# What a PowerShell user checks of any module: -WhatIf/-Confirm, -ErrorAction, a downstream Select-Object -First
# stopping the source, Ctrl+C (a stopped pipeline) leaving whole batches, progress records, formatting, tab
# completion, and secrets absent from every stream with -Verbose -Debug.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $qurl = $h.qdrantUrl; $qkey = $h.qdrantKey; $purl = $h.pineconeUrl; $pkey = $h.pineconeKey

    # A pwsh of its own, -NonInteractive as a runbook is, for what PowerShell writes to the host (What if: ...).
    function Invoke-ChildPwsh([string] $Script) {
        $prelude = "`$PSStyle.OutputRendering = 'PlainText'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$Manifest' -ErrorAction Stop`n"
        (& ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -Command ($prelude + $Script) 2>&1) -join "`n"
    }

    # A runspace of this process with the module, its streams kept apart (Progress, Verbose, Debug, ...).
    function New-ModuleRunspace {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$Manifest' -ErrorAction Stop").Invoke()
        $ps.Commands.Clear()
        $ps
    }

    function New-Records([int] $Count, [int] $BadAt = 0) {
        1..$Count | ForEach-Object { @{ id = $_; embedding = if ($_ -eq $BadAt) { 1.0, 2.0 } else { 1.0, 2.0, [double]$_ } } } | ConvertTo-PgVectorRecord
    }
}

Describe '-WhatIf and -Confirm' {
    It 'Write-PgVector -WhatIf prints the DDL and creates nothing; Write-QdrantPoint and Write-PineconeVector -WhatIf write nothing' {
        $pg = New-TestDatabase
        $planned = New-UniqueName 'planned'
        $text = Invoke-ChildPwsh @"
Get-QdrantPoint -Url '$qurl' -ApiKey '$qkey' -Collection docs | Write-PgVector -ConnectionString '$pg' -Table planned -Index Hnsw -WhatIf
Get-QdrantPoint -Url '$qurl' -ApiKey '$qkey' -Collection docs | Write-QdrantPoint -Url '$qurl' -ApiKey '$qkey' -Collection $planned -Distance Dot -WhatIf
Get-PineconeVector -Url '$purl' -ApiKey '$pkey' -IndexName movies | Write-PineconeVector -Url '$purl' -ApiKey '$pkey' -IndexName movies -Namespace $planned -WhatIf
"@
        $text | Should -Match 'What if: Write records into public\.planned'
        $text | Should -Match 'CREATE TABLE "public"\."planned"'
        $text | Should -Match "What if: Upsert points into Qdrant collection '$planned'"
        $text | Should -Match 'The collection does not exist; it is created with:'
        $text | Should -Match '\(unnamed\): dense 8 Dot'
        $text | Should -Match "Namespace: '$planned'"
        $text | Should -Match "What if: Upsert vectors into Pinecone index 'movies'"
        Invoke-Sql $pg "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" | Should -Be 0
        Get-QdrantCollection -Url $qurl -ApiKey $qkey | Where-Object Name -eq $planned | Should -BeNullOrEmpty
        @(Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies -Namespace $planned).Count | Should -Be 0
    }

    It 'Replace asks first: a non-interactive session fails without -Force; -WhatIf keeps the rows; -Force and -Confirm:$false replace' {
        $pg = New-TestDatabase
        $null = New-Records 10 | Write-PgVector -ConnectionString $pg -Table kept
        $text = Invoke-ChildPwsh @"
`$two = 1..2 | ForEach-Object { @{ id = `$_; embedding = 1.0, 2.0, 3.0 } } | ConvertTo-PgVectorRecord
try { `$two | Write-PgVector -ConnectionString '$pg' -Table kept -Mode Replace; 'ASKED=no' } catch { "ASKED=`$(`$_.Exception.Message)" }
`$null = `$two | Write-PgVector -ConnectionString '$pg' -Table kept -Mode Replace -WhatIf
"@
        $text | Should -Match 'ASKED=.*NonInteractive'
        $text | Should -Match 'What if: Write records into public\.kept'
        $text | Should -Match 'Replace: every row of the existing table is deleted \(TRUNCATE\)'
        Invoke-Sql $pg 'SELECT count(*) FROM kept' | Should -Be 10
        $null = New-Records 2 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -WhatIf
        Invoke-Sql $pg 'SELECT count(*) FROM kept' | Should -Be 10
        $null = New-Records 2 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -Force
        Invoke-Sql $pg 'SELECT count(*) FROM kept' | Should -Be 2
        $null = New-Records 3 | Write-PgVector -ConnectionString $pg -Table kept -Mode Replace -Confirm:$false
        Invoke-Sql $pg 'SELECT count(*) FROM kept' | Should -Be 3
    }

    It 'Remove-VecMigrateCheckpoint -WhatIf keeps the checkpoint; -Force removes it' {
        $pg = New-TestDatabase
        $null = New-Records 10 | Write-PgVector -ConnectionString $pg -Table t -Checkpoint nightly
        Remove-VecMigrateCheckpoint -ConnectionString $pg -Name nightly -WhatIf
        (Get-VecMigrateCheckpoint -ConnectionString $pg).Name | Should -Be 'nightly'
        Remove-VecMigrateCheckpoint -ConnectionString $pg -Name nightly -Force
        Get-VecMigrateCheckpoint -ConnectionString $pg | Should -BeNullOrEmpty
    }
}

Describe '-ErrorAction' {
    It 'Continue: a bad record is a non-terminating error naming it, and the rest are written' {
        $pg = New-TestDatabase
        $s = New-Records 20 -BadAt 7 | Write-PgVector -ConnectionString $pg -Table going -BatchSize 5 -ErrorVariable bad -ErrorAction Continue 2>$null
        $s.RecordsWritten | Should -Be 19
        $s.RecordsRejected | Should -Be 1
        $bad.Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'PgVectorDimensionMismatch,*'
        $bad[0].CategoryInfo.Category | Should -Be 'InvalidData'
        "$($bad[0].TargetObject.Id)" | Should -Be '7'
        Invoke-Sql $pg 'SELECT count(*) FROM going' | Should -Be 19
    }

    It 'Stop: stops at the bad record; the committed batch stays, the open one is rolled back' {
        $pg = New-TestDatabase
        { New-Records 20 -BadAt 7 | Write-PgVector -ConnectionString $pg -Table stopping -BatchSize 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'PgVectorDimensionMismatch,*'
        Invoke-Sql $pg 'SELECT count(*) FROM stopping' | Should -Be 5
        Invoke-Sql $pg 'SELECT max(id) FROM stopping' | Should -Be 5
    }

    It 'a bad endpoint or key ends the command whatever -ErrorAction says, with a stable id and the url as target' {
        { Get-QdrantPoint -Url $qurl -ApiKey 'not-the-key' -Collection docs -ErrorAction Continue } | Should -Throw -ErrorId 'QdrantUnauthorized,*'
        { Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection nope -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'QdrantCollectionNotFound,*'
        { New-Records 3 | Write-PgVector -ConnectionString 'Host=127.0.0.1;Port=1;Username=x;Timeout=3' -Table t -ErrorAction Continue } |
            Should -Throw -ErrorId 'PgUnreachable,*'
        try { Get-QdrantPoint -Url $qurl -ApiKey 'not-the-key' -Collection docs } catch { $e = $_ }
        "$($e.TargetObject)" | Should -BeLike "$($qurl.TrimEnd('/'))*"
    }
}

Describe 'Stopping' {
    It 'Select-Object -First stops the source: once it has its records, Qdrant and Pinecone are asked for nothing more' {
        # Every answer takes 50 ms, so that the whole collection (100 pages of 10) would take 5 s to read.
        Set-StandInDelay -QdrantMilliseconds 50 -PineconeMilliseconds 50
        try {
            $before = Get-StandInStats
            # A request already on the wire when the command returns may reach the stand-in's counter a moment
            # later (seen once in CI: one more Pinecone request counted): it was sent before the stop, so each
            # count is taken after a settle of 250 ms. A reader left running would make ~30 more in the 1.5 s after.
            $first = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -PageSize 10 | Select-Object -First 5
            Start-Sleep -Milliseconds 250
            $atStop = Get-StandInStats
            $movies = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies -PageSize 5 | Select-Object -First 3
            Start-Sleep -Milliseconds 250
            $atPineconeStop = Get-StandInStats
            Start-Sleep -Milliseconds 1500
            $later = Get-StandInStats
        }
        finally { Set-StandInDelay }
        $first | ForEach-Object { "$($_.Id)" } | Should -Be @('1', '2', '3', '4', '5')
        @($movies).Count | Should -Be 3
        $atStop.qdrantScrolls - $before.qdrantScrolls | Should -BeLessThan 20
        $later.qdrantScrolls | Should -Be $atStop.qdrantScrolls -Because 'the source is stopped, not reading ahead to the end'
        # 75 records in pages of 5 are 15 list calls and 15 fetches.
        $atPineconeStop.pineconeRequests - $atStop.pineconeRequests | Should -BeLessThan 15
        $later.pineconeRequests | Should -Be $atPineconeStop.pineconeRequests
    }

    It 'Ctrl+C (a stopped pipeline) keeps the committed batches, whole, with the checkpoint agreeing, and rolls back the open one' {
        $pg = New-TestDatabase
        $ps = New-ModuleRunspace
        $null = $ps.AddScript({
                param($pg)
                1..100000000 | ForEach-Object { @{ id = $_; embedding = 1.0, 2.0, 3.0 } } | ConvertTo-PgVectorRecord |
                    Write-PgVector -ConnectionString $pg -Table stopped -BatchSize 1000 -Checkpoint stopping
            }).AddArgument($pg)
        $handle = $ps.BeginInvoke()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            do { Start-Sleep -Milliseconds 200; $committed = (Get-VecMigrateCheckpoint -ConnectionString $pg -Name stopping -ErrorAction SilentlyContinue).Records }
            until ($committed -ge 3000 -or [DateTime]::UtcNow -gt $deadline)
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
        $rows = [long](Invoke-Sql $pg 'SELECT count(*) FROM stopped')
        $rows | Should -BeGreaterOrEqual 3000
        $rows % 1000 | Should -Be 0
        [long](Invoke-Sql $pg 'SELECT max(id) FROM stopped') | Should -Be $rows
        (Get-VecMigrateCheckpoint -ConnectionString $pg -Name stopping).Records | Should -Be $rows
    }
}

Describe 'Progress' {
    It 'reading and writing show progress records with counts and end with Completed' {
        $pg = New-TestDatabase
        Set-StandInDelay -QdrantMilliseconds 30
        $ps = New-ModuleRunspace
        try {
            $null = $ps.AddScript({
                    param($qurl, $qkey, $pg)
                    $ProgressPreference = 'Continue'
                    Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs -PageSize 50 | Write-PgVector -ConnectionString $pg -Table docs -BatchSize 200
                }).AddArgument($qurl).AddArgument($qkey).AddArgument($pg)
            $summary = $ps.Invoke()
            $progress = @($ps.Streams.Progress)
        }
        finally { $ps.Dispose(); Set-StandInDelay }
        $summary.RecordsWritten | Should -Be 1000
        $reading = @($progress | Where-Object Activity -Match "docs" | Where-Object Activity -Match 'Qdrant|Reading')
        $reading.Count | Should -BeGreaterThan 1
        $reading | Where-Object RecordType -eq 'Completed' | Should -Not -BeNullOrEmpty
        $reading | Where-Object { $_.RecordType -eq 'Processing' -and $_.StatusDescription -match '\d' } | Should -Not -BeNullOrEmpty
        foreach ($activity in $progress | Group-Object ActivityId) {
            $activity.Group[-1].RecordType | Should -Be 'Completed' -Because "activity '$($activity.Group[0].Activity)' must be completed"
        }
    }
}

Describe 'Formatting' {
    It 'records, collections, indexes, summaries and checkpoints show as their views' {
        $pg = New-TestDatabase
        $s = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 3 | Write-PgVector -ConnectionString $pg -Table docs -Checkpoint shown
        $records = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Select-Object -First 2 | Out-String -Width 200
        $records | Should -Match '(?m)^\s*Id\s+Namespace\s+Vectors\s+Payload'
        $records | Should -Match 'doc 1'
        Get-QdrantCollection -Url $qurl -ApiKey $qkey -Name docs | Out-String -Width 200 | Should -Match '(?m)^Name\s+Status\s+Points\s+Vectors\s+Sparse'
        Get-PineconeIndex -Url $purl -ApiKey $pkey -Name movies | Out-String -Width 200 | Should -Match '(?m)^Name\s+Dimension\s+Metric'
        $s | Out-String -Width 200 | Should -Match '(?m)^Table\s+Written\s+Rejected\s+Batches\s+Elapsed\s+Records/s'
        Get-VecMigrateCheckpoint -ConnectionString $pg | Out-String -Width 200 | Should -Match '(?m)^Name\s+Records\s+Completed'
        New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs | Out-String -Width 200 | Should -Match 'System'
    }
}

Describe 'Tab completion' {
    BeforeAll {
        function Complete([string] $Line) { (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText }
    }

    It 'completes Qdrant collections, Pinecone indexes and Postgres tables from the server' {
        $pg = New-TestDatabase
        $null = New-Records 3 | Write-PgVector -ConnectionString $pg -Table docs_table
        Complete "Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection do" | Should -Contain 'docs'
        Complete "Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName mov" | Should -Be 'movies'
        Complete "Get-PgVector -ConnectionString '$pg' -Table docs_" | Should -Be 'docs_table'
    }
}

Describe 'Secrets' {
    It 'appear in no stream, output view, error record or progress record, with -Verbose -Debug' {
        $pg = New-TestDatabase
        New-TestPineconeIndex (New-UniqueName 'secret') 4
        $secrets = 'wrong-qdrant-key-8812', 'pg-pass-Secr3t-4471', 'pinecone-bad-key-5531', 'uri-pass-Secr3t-9902', 'cred-pass-Secr3t-3307', $qkey, $pkey
        $ps = New-ModuleRunspace
        try {
            $null = $ps.AddScript({
                    param($qurl, $qkey, $purl, $pkey, $pg)
                    $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $ProgressPreference = 'Continue'
                    $env:QDRANT_API_KEY = $qkey; $env:PINECONE_API_KEY = $pkey
                    $badPg = 'Host=127.0.0.1;Port=1;Username=bob;Password=pg-pass-Secr3t-4471;Timeout=3'
                    $uriPg = 'postgres://bob:uri-pass-Secr3t-9902@127.0.0.1:1/db?connect_timeout=3'
                    $cred = [pscredential]::new('postgres', (ConvertTo-SecureString 'cred-pass-Secr3t-3307' -AsPlainText -Force))
                    $ten = Get-QdrantPoint -Url $qurl -Collection docs -PageSize 5 -Verbose -Debug | Select-Object -First 10
                    Get-QdrantPoint -Url $qurl -ApiKey 'wrong-qdrant-key-8812' -Collection docs -Verbose -Debug
                    $ten | Write-PgVector -ConnectionString $badPg -Table x -Verbose -Debug
                    $ten | Write-PgVector -ConnectionString $pg -Table ok -Credential $cred -Verbose -Debug
                    Get-PineconeIndex -Url $purl -ApiKey 'pinecone-bad-key-5531' -Verbose -Debug
                    Get-PgVector -ConnectionString $uriPg -Table t -Verbose -Debug
                    $ten | Write-QdrantPoint -Url $qurl -ApiKey 'wrong-qdrant-key-8812' -Collection secret_q -Verbose -Debug
                    $ten | Write-QdrantPoint -Url $qurl -Collection secret_q -Distance Dot -Verbose -Debug
                    Get-PineconeVector -Url $purl -IndexName movies -Verbose -Debug | Select-Object -First 5 |
                        Write-PineconeVector -Url $purl -ApiKey 'pinecone-bad-key-5531' -IndexName movies -Namespace s -Verbose -Debug
                    $from = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs
                    $to = New-PgVectorTarget -ConnectionString $pg -Credential $cred -Table copied
                    $from; $to; "$from"; "$to"
                    Copy-VectorData -Source $from -Target $to -Checkpoint secret-copy -Resume -Verbose -Debug
                    Get-VecMigrateCheckpoint -ConnectionString 'Host=127.0.0.1;Port=1;Timeout=3' -Credential $cred -Verbose -Debug
                }).AddArgument($qurl).AddArgument($qkey).AddArgument($purl).AddArgument($pkey).AddArgument($pg)
            $output = $ps.Invoke()
            $streams = $ps.Streams
            $text = @(
                $output | ForEach-Object { "$_"; $_ | Format-List * | Out-String; $_ | Format-Table | Out-String; $_ | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue }
                $streams.Error | ForEach-Object { "$_"; "$($_.Exception)"; "$($_.Exception.InnerException)"; "$($_.TargetObject)"; "$($_.ErrorDetails)"; "$($_.CategoryInfo)"; $_.ScriptStackTrace }
                $streams.Verbose | ForEach-Object Message
                $streams.Debug | ForEach-Object Message
                $streams.Warning | ForEach-Object Message
                $streams.Information | ForEach-Object { "$($_.MessageData)" }
                $streams.Progress | ForEach-Object { $_.Activity; $_.StatusDescription; $_.CurrentOperation }
            ) -join "`n"
            $errorCount = $streams.Error.Count
            $logLines = $streams.Verbose.Count + $streams.Debug.Count
        }
        finally { $ps.Dispose() }

        # The check would prove nothing if the commands had not run and talked.
        $errorCount | Should -Be 7
        $logLines | Should -BeGreaterThan 20
        $text | Should -Match 'Qdrant refused the API key'
        foreach ($secret in $secrets) { $text | Should -Not -Match ([regex]::Escape($secret)) }
    }
}
