#Requires -Version 7.4
<#
.SYNOPSIS
    VecMigrate's first run, with no cloud account: the sample dataset into pgvector, verified and queried.
.DESCRIPTION
    1. Builds the module if module/bin is missing (dotnet build, Release).
    2. Uses the Postgres that PGHOST (with PGPORT, PGUSER, PGPASSWORD, PGDATABASE) names; without PGHOST, starts a
       throwaway cluster with pgvector on a free loopback port (`bash .ci/install-deps` installs both) and removes
       it at the end.
    3. Migrates samples/docs.jsonl (2,000 documents, 64-dimensional vectors, JSON payloads) into the table
       vecmigrate_sample_docs, replacing it, with an HNSW index for cosine distance:
           Get-Content | ConvertFrom-Json | ConvertTo-PgVectorRecord | Write-PgVector
    4. Verifies the copy: Measure-VectorDigest of the file's records and of the table's rows, Compare-VectorDigest.
    5. Asks pgvector (psql) for the nearest neighbours of one document, and prints what happened.
.EXAMPLE
    dotnet tool restore; dotnet tool run pwsh -File ./samples/first-run.ps1
.EXAMPLE
    $env:PGHOST = 'localhost'; $env:PGDATABASE = 'scratch'; pwsh ./samples/first-run.ps1 -QueryId 7
#>
[CmdletBinding()]
param(
    # The document whose nearest neighbours are asked for.
    [ValidateRange(1, 2000)] [int] $QueryId = 42,

    # How many neighbours to show.
    [ValidateRange(1, 100)] [int] $Neighbours = 5
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$sample = Join-Path $PSScriptRoot 'docs.jsonl'
$table = 'vecmigrate_sample_docs'
. (Join-Path $PSScriptRoot 'LocalPostgres.ps1')

Write-Host 'VecMigrate first run: a sample dataset into pgvector, verified and queried.'

# ---- 1. the module ----------------------------------------------------------------------------------
if (-not (Test-Path (Join-Path $root 'module/bin/deps/VecMigrate.dll'))) {
    Write-Host 'Building the module (dotnet build -c Release), once...'
    dotnet build (Join-Path $root 'src/VecMigrate/VecMigrate.csproj') -c Release -nologo -v quiet | Out-Host
    if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE." }
}
Import-Module (Join-Path $root 'VecMigrate.psd1') -Force
Write-Host "Module:    VecMigrate $((Get-Module VecMigrate).Version) from $root"

# ---- 2. Postgres -----------------------------------------------------------------------------------
$server = $null
$saved = @{}
if ($env:PGHOST) {
    Write-Host "Postgres:  $env:PGHOST (from PGHOST and the other PG* variables)"
}
else {
    Write-Host 'Postgres:  starting a throwaway cluster with pgvector (removed at the end)...'
    $server = Start-LocalPostgres
    # The cmdlets and psql both read PG* variables: point them at the throwaway cluster for this run.
    foreach ($name in 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    $env:PGHOST = '127.0.0.1'; $env:PGPORT = "$($server.Port)"; $env:PGUSER = 'postgres'; $env:PGDATABASE = $server.Database
    $env:PGPASSWORD = $null
    Write-Host "           127.0.0.1:$($server.Port), database $($server.Database)"
}

try {
    $psql = if ($server) { Join-Path $server.Bin 'psql' } else { (Get-Command psql -ErrorAction Ignore).Source ?? (Join-Path (Find-PostgresBin) 'psql') }
    & $psql -qAt -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS vector' | Out-Null
    if ($LASTEXITCODE) { throw "psql could not reach Postgres or create the vector extension (exit code $LASTEXITCODE)." }

    # ---- 3. migrate ----------------------------------------------------------------------------------
    $lines = (Get-Content -LiteralPath $sample | Measure-Object -Line).Lines
    Write-Host "Sample:    $sample ($('{0:N0}' -f $lines) documents)"
    $columns = [ordered]@{ topic = 'text'; year = 'int' }   # typed columns; the other fields stay in the jsonb payload
    $summary = Get-Content -LiteralPath $sample | ConvertFrom-Json | ConvertTo-PgVectorRecord -Column $columns |
        Write-PgVector -Table $table -Mode Replace -Force -Index Hnsw -IndexMetric Cosine
    Write-Host ("Migrated:  {0:N0} records into {1} in {2:N2} s ({3:N0} records/s), {4} batch(es), {5} rejected" -f
        $summary.RecordsWritten, $summary.Table, $summary.Elapsed.TotalSeconds, $summary.RecordsPerSecond, $summary.BatchesCommitted, $summary.RecordsRejected)

    # ---- 4. verify -----------------------------------------------------------------------------------
    # The file's records as they are (every field but id and embedding in the payload) against the table's rows
    # as Get-PgVector reads them (the typed columns come back as payload fields): equal when nothing was lost.
    $fromFile = Get-Content -LiteralPath $sample | ConvertFrom-Json | ConvertTo-PgVectorRecord | Measure-VectorDigest
    $fromTable = Get-PgVector -Table $table | Measure-VectorDigest
    $check = Compare-VectorDigest $fromFile $fromTable
    if (-not $check.Equal) {
        throw ("Verification failed: {0:N0} records in the file, {1:N0} in the table, {2} of the digest's buckets differ." -f
            $check.SourceCount, $check.TargetCount, $check.DifferingBuckets.Count)
    }
    Write-Host ("Verified:  digests equal, {0:N0} records in the file and {1:N0} in the table (ids, vectors, payloads)" -f $check.SourceCount, $check.TargetCount)

    # ---- 5. query ------------------------------------------------------------------------------------
    $sql = @"
SELECT n.id, n.topic, round((n.embedding <=> q.embedding)::numeric, 4), n.payload->>'title'
FROM $table n, (SELECT embedding FROM $table WHERE id = $QueryId) q
ORDER BY n.embedding <=> q.embedding
LIMIT $Neighbours
"@
    $rows = & $psql -qAt -F "`t" -v ON_ERROR_STOP=1 -c $sql
    if ($LASTEXITCODE) { throw "The nearest-neighbour query failed (psql exit code $LASTEXITCODE)." }
    Write-Host "Nearest:   the $Neighbours documents closest to document $QueryId (pgvector's cosine distance, <=>):"
    $rows | ForEach-Object {
        $id, $topic, $distance, $title = $_ -split "`t"
        [pscustomobject]@{ Id = [long]$id; Topic = $topic; Distance = $distance; Title = $title }
    } | Format-Table -AutoSize | Out-String -Width 120 | Write-Host
    Write-Host "Done. Next: Get-Help about_VecMigrate, and the README's Usage for Qdrant and Pinecone."
}
finally {
    if ($server) {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $(if ($null -eq $saved[$name]) { [NullString]::Value } else { $saved[$name] })) }
        Stop-LocalPostgres $server
    }
}
