# docs/runbook-example.ps1 as Azure Automation runs it, job after job: its Automation cmdlets replaced by local functions
# that answer with the stand-ins' assets, the managed identity's token endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER) a
# loopback stand-in whose tokens are the Postgres role's only password (renewed every 3 seconds), and a time limit of
# seconds (Qdrant answering slowly) so that the copy takes several slices.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $runbook = Join-Path $RepoRoot 'docs' 'runbook-example.ps1'

    $saved = @{}
    foreach ($name in 'PSModulePath', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'VECMIGRATE_ENTRA_REFRESH_SECONDS') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    # The runbook imports the module by name, as an Automation account does: a folder VecMigrate on PSModulePath.
    $null = Enable-ModuleByName
    # What Azure Automation sets in a job's sandbox for the account's managed identity.
    $env:IDENTITY_ENDPOINT = $h.identityEndpoint
    $env:IDENTITY_HEADER = $h.identityHeader
    # Npgsql asks for a token every second here (4 minutes by default), as the stand-in's tokens are renewed every 3.
    $env:VECMIGRATE_ENTRA_REFRESH_SECONDS = '1'

    function Get-AutomationVariable([string] $Name) {
        switch ($Name) {
            'VecMigrate-QdrantUrl' { $h.qdrantUrl }
            'VecMigrate-PgHost' { "127.0.0.1;Port=$($h.postgresPort)" }
            'VecMigrate-PgRole' { $h.identityRole }
            default { throw "no Automation variable $Name" }
        }
    }
    function Get-AutomationPSCredential([string] $Name) {
        switch ($Name) {
            'VecMigrate-Qdrant' { [pscredential]::new('qdrant', (ConvertTo-SecureString $h.qdrantKey -AsPlainText -Force)) }
            'VecMigrate-Postgres' { [pscredential]::new('postgres', (ConvertTo-SecureString 'not-checked' -AsPlainText -Force)) }
            default { throw "no Automation credential $Name" }
        }
    }
    function Get-Summary($Output) { @($Output | Where-Object { $_.PSObject.TypeNames[0] -eq 'VecMigrate.Engine.Pipeline.MigrationSummary' }) }
}

AfterAll {
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $(if ($null -eq $saved[$name]) { [NullString]::Value } else { $saved[$name] })) }
}

Describe 'docs/runbook-example.ps1, job after job' {
    It 'signs in as the managed identity, copies in slices that add up, and ends with the table exact' {
        $pg = New-TestDatabase
        $db = ($pg -split ';' | Where-Object { $_ -like 'Database=*' }) -replace '^Database=', ''
        $slices = [System.Collections.Generic.List[object]]::new()
        $texts = [System.Collections.Generic.List[string]]::new()
        # Qdrant answers slowly, so that a slice of 3.5 seconds reads only part of the collection.
        $null = Invoke-StandInCommand 'qdrant-delay 700'
        try {
            for ($job = 1; $job -le 12; $job++) {
                $out = & $runbook -Database $db -Table docs -Checkpoint rb -SslMode Prefer -BatchSize 50 -TimeLimit ([timespan]::FromSeconds(3.5)) 4>$null
                $summary = Get-Summary $out
                $summary | Should -HaveCount 1
                $slices.Add($summary[0])
                $texts.Add((@($out | Where-Object { $_ -is [string] }) -join "`n"))
                if ($summary[0].Completed) { break }
            }
        }
        finally {
            $null = Invoke-StandInCommand 'qdrant-delay 0'
        }

        $slices.Count | Should -BeGreaterThan 1 -Because 'a slice of 3.5 seconds cannot copy 1,000 slowly served points'
        $slices[-1].Completed | Should -BeTrue -Because "slices wrote $($slices.RecordsWritten -join ',')"
        $texts[-1] | Should -Match 'Copy complete: [\d,]+ records written in this slice, 1,000 in all'
        $texts[0] | Should -Match 'Slice done: [\d,]+ records written'
        # Every slice starts where the one before ended, and they add up to the collection.
        $before = 0
        foreach ($s in $slices) {
            $s.RecordsBefore | Should -Be $before
            $s.TotalRecords | Should -Be ($s.RecordsBefore + $s.RecordsWritten)
            $before = $s.TotalRecords
        }
        ($slices | Measure-Object -Property RecordsWritten -Sum).Sum | Should -Be 1000

        # The table is the collection, exactly (ids, vectors bit for bit, payloads), and the identity's role wrote it.
        $q = Get-QdrantPoint -Url $h.qdrantUrl -ApiKey $h.qdrantKey -Collection docs | Measure-VectorDigest
        $p = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
        (Compare-VectorDigest $q $p).Equal | Should -BeTrue
        Invoke-Sql $pg "SELECT tableowner FROM pg_tables WHERE tablename = 'docs'" | Should -Be $h.identityRole

        # The next job finds the copy complete and says so.
        $done = & $runbook -Database $db -Table docs -Checkpoint rb -SslMode Prefer 4>$null
        (Get-Summary $done)[0].AlreadyComplete | Should -BeTrue
        (@($done | Where-Object { $_ -is [string] }) -join "`n") | Should -Match "Checkpoint 'rb' is complete: 1000 records"
    }

    It 'signs in with an Automation credential when asked to' {
        $pg = New-TestDatabase
        $db = ($pg -split ';' | Where-Object { $_ -like 'Database=*' }) -replace '^Database=', ''
        $out = & $runbook -Database $db -Table docs -Checkpoint rb -SslMode Prefer -PgAuthentication Credential 4>$null
        (Get-Summary $out)[0].Completed | Should -BeTrue
        Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000
        Invoke-Sql $pg "SELECT tableowner FROM pg_tables WHERE tablename = 'docs'" | Should -Be 'postgres'
    }
}
