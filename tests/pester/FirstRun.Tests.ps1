#Requires -Version 7.4
# The README's "Try it in a minute": samples/first-run.ps1 in a fresh pwsh, as a newcomer runs it, and what it prints.
# Reads: PGHOST and the other PG* variables, as first-run.ps1 itself does (set: it uses that Postgres; unset: it
# starts and removes a throwaway cluster, which needs PostgreSQL and pgvector from `bash .ci/install-deps`).
# Needs the module built, or the .NET SDK to build it.

BeforeAll {
    $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Sample = Join-Path $Repo 'samples/docs.jsonl'
    $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    Push-Location $Repo
    try {
        $script:Output = & $pwsh -NoProfile -NonInteractive -File ./samples/first-run.ps1 -QueryId 42 -Neighbours 5 2>&1 | ForEach-Object { "$_" }
        $script:ExitCode = $LASTEXITCODE
    }
    finally {
        Pop-Location
    }
    $script:Text = $Output -join "`n"
    $script:Documents = @(Get-Content -LiteralPath $Sample | ConvertFrom-Json)
}

Describe 'samples/first-run.ps1' {
    It 'ends without an error' {
        $ExitCode | Should -Be 0 -Because $Text
        $Text | Should -Not -Match 'Exception|Error'
    }

    It 'migrates every document of the sample file' {
        $Documents.Count | Should -BeGreaterOrEqual 1000
        $Text | Should -Match ("Migrated:\s+{0:N0} records into public\.vecmigrate_sample_docs .*, 0 rejected" -f $Documents.Count)
    }

    It 'verifies the table against the file with the digests' {
        $Text | Should -Match ("Verified:\s+digests equal, {0:N0} records in the file and {0:N0} in the table" -f $Documents.Count)
    }

    It 'finds the queried document first and its topic around it' {
        $rows = @($Output | Where-Object { $_ -match '^\s*\d+\s+\S+\s+\d+\.\d+\s' } | ForEach-Object {
                $id, $topic, $distance = ($_.Trim() -split '\s+')[0..2]
                [pscustomobject]@{ Id = [long]$id; Topic = $topic; Distance = [double]$distance }
            })
        $rows.Count | Should -Be 5 -Because $Text
        $query = $Documents | Where-Object id -eq 42
        $rows[0].Id | Should -Be 42
        $rows[0].Distance | Should -Be 0
        $rows.Topic | Should -Be (@($query.topic) * 5) -Because 'the sample places each topic around a centre of its own'
        $rows.Distance | Should -Be ($rows.Distance | Sort-Object)
    }

    It 'leaves no throwaway cluster behind' {
        if ($env:PGHOST) { Set-ItResult -Skipped -Because 'PGHOST names the Postgres used; no cluster was started' }
        Get-ChildItem ([System.IO.Path]::GetTempPath()) -Filter 'vecmigrate-sample-pg-*' -Directory | Where-Object LastWriteTime -gt (Get-Date).AddMinutes(-10) |
            Should -BeNullOrEmpty
    }
}
