# Dot-sourced by every *.Tests.ps1 in BeforeAll: imports the freshly built module from the checkout and starts (or
# reuses) the stand-in host (tests/VecMigrate.StandInHost): a throwaway Postgres with pgvector, the Qdrant stand-in
# (REST and gRPC, API key) holding "docs" (1,000 points, 8 dims, Cosine), the Pinecone stand-in holding "movies"
# (75 records, 4 dims; 30 in the default namespace, 45 in "alpha") and the Milvus stand-in (token root:Milvus) holding
# "docs" (300 entities, 8 dims, COSINE; "tenant" acme for every third, globex for the others).
#
#   BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1'); $h = Start-VecMigrateStandIn }
#   AfterAll  { Stop-VecMigrateStandIn }
#
# Under Invoke-VecMigratePester.ps1 all files share one host, which the runner stops at the end; a file run on
# its own starts its own and stops it in AfterAll.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
$script:Manifest = Join-Path $script:RepoRoot 'VecMigrate.psd1'

if (-not (Get-Module VecMigrate)) {
    if (-not (Test-Path (Join-Path $script:RepoRoot 'module' 'bin' 'deps' 'VecMigrate.dll'))) {
        throw "The module is not built: dotnet build VecMigrate.sln -c Release"
    }
    Import-Module $script:Manifest -ErrorAction Stop
}
$PSStyle.OutputRendering = 'PlainText'

function Start-VecMigrateStandIn {
    <# Starts the stand-in host, or returns the one running; its properties are the host's JSON line. #>
    if ($global:VecMigrateStandIn -and -not $global:VecMigrateStandIn.Process.HasExited) { return $global:VecMigrateStandIn.Info }
    $configuration = if ($env:VECMIGRATE_TEST_CONFIGURATION) { $env:VECMIGRATE_TEST_CONFIGURATION } else { 'Release' }
    $dll = Join-Path $script:RepoRoot 'tests' 'VecMigrate.StandInHost' 'bin' $configuration 'net10.0' 'VecMigrate.StandInHost.dll'
    if (-not (Test-Path $dll)) { throw "The stand-in host is not built at ${dll}: dotnet build VecMigrate.sln -c $configuration" }

    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $start.ArgumentList.Add($dll)
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds(120)) -or -not $line.Result) {
        if (-not $process.HasExited) { $process.Kill($true) }
        throw "The stand-in host did not start (exit code: $(if ($process.HasExited) { $process.ExitCode } else { 'still running' }))."
    }
    $global:VecMigrateStandIn = [pscustomobject]@{ Process = $process; Info = ($line.Result | ConvertFrom-Json) }
    $global:VecMigrateStandIn.Info
}

function Stop-VecMigrateStandIn {
    <# Stops the host (closing its stdin lets it stop Postgres and the stand-ins), unless the runner shares it. #>
    param([switch] $Force)
    if ($global:VecMigrateSharedStandIns -and -not $Force) { return }
    $running = $global:VecMigrateStandIn
    $global:VecMigrateStandIn = $null
    if (-not $running) { return }
    $running.Process.StandardInput.Close()
    if (-not $running.Process.WaitForExit(60000)) { $running.Process.Kill($true) }
    $running.Process.Dispose()
}

function Invoke-StandInCommand([string] $Command) {
    $process = $global:VecMigrateStandIn.Process
    $process.StandardInput.WriteLine($Command)
    $process.StandardInput.Flush()
    $answer = $process.StandardOutput.ReadLine() | ConvertFrom-Json
    if ($answer.error) { throw "stand-in host: $($answer.error)" }
    $answer
}

function Enable-ModuleByName {
    <#
    Puts the checkout on PSModulePath as a folder named VecMigrate, as an installed module is, for scripts that run
    Import-Module VecMigrate (runbooks, ForEach-Object -Parallel). The folder is a symbolic link made once per process
    and kept to its end: PowerShell remembers where it found a module, and a link removed by one test file would leave
    the next with a path that is gone (never removed recursively either: that would follow the link into the checkout).
    Returns PSModulePath as it was, for the caller to put back.
    #>
    $dir = Join-Path ([IO.Path]::GetTempPath()) "vecmigrate-modules-$PID"
    $link = Join-Path $dir 'VecMigrate'
    if (-not (Test-Path $link)) {
        $null = New-Item -ItemType Directory -Path $dir -Force
        $null = New-Item -ItemType SymbolicLink -Path $link -Target $script:RepoRoot
    }
    $saved = $env:PSModulePath
    if (($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $dir) {
        $env:PSModulePath = $dir + [IO.Path]::PathSeparator + $env:PSModulePath
    }
    $saved
}

function New-TestDatabase {
    <# A fresh database with the vector extension in the host's Postgres; returns its connection string. #>
    (Invoke-StandInCommand 'database').connectionString
}

function New-TestPineconeIndex([string] $Name, [int] $Dimension, [string] $Metric = 'cosine') {
    $null = Invoke-StandInCommand "pinecone-index $Name $Dimension $Metric"
}

function Set-StandInDelay([int] $QdrantMilliseconds = 0, [int] $PineconeMilliseconds = 0) {
    <# Every answer of the stand-in waits this long (so that a time limit or a stop falls mid-copy). #>
    $null = Invoke-StandInCommand "qdrant-delay $QdrantMilliseconds"
    $null = Invoke-StandInCommand "pinecone-delay $PineconeMilliseconds"
}

function Invoke-Sql([string] $ConnectionString, [string] $Sql) {
    <# What psql prints for one statement (unaligned, tuples only), in the database of $ConnectionString. #>
    $parts = @{}
    foreach ($pair in $ConnectionString.Split(';', [StringSplitOptions]::RemoveEmptyEntries)) {
        $key, $value = $pair.Split('=', 2)
        $parts[$key.Trim()] = $value.Trim()
    }
    $psql = Get-ChildItem /usr/lib/postgresql/*/bin/psql | Sort-Object { [int]$_.Directory.Parent.Name } | Select-Object -Last 1
    $out = & $psql.FullName -h $parts.Host -p $parts.Port -U $parts.Username -d $parts.Database -X -q -t -A -v ON_ERROR_STOP=1 -c $Sql
    if ($LASTEXITCODE) { throw "psql failed ($LASTEXITCODE): $Sql" }
    $out
}

function New-UniqueName([string] $Prefix = 't') {
    "${Prefix}_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
}

function Reset-StandInDocs {
    <# Seeds the Qdrant collection "docs" again as at the start (after a test wrote into it). #>
    $null = Invoke-StandInCommand 'qdrant-reseed'
}

function Remove-StandInCollection([string] $Name) {
    $null = Invoke-StandInCommand "qdrant-drop $Name"
}

function Remove-MilvusStandInCollection([string] $Name) {
    $null = Invoke-StandInCommand "milvus-drop $Name"
}

function Reset-MilvusStandInDocs {
    <# Seeds the Milvus collection "docs" again as at the start (300 entities, 8 dims; tenants acme and globex). #>
    $null = Invoke-StandInCommand 'milvus-reseed'
}

function Invoke-QdrantRest([string] $Method, [string] $Path, $Body) {
    <# Qdrant's REST API of the stand-in, for set-up the module has no cmdlet for (a collection of a given shape). #>
    $h = Start-VecMigrateStandIn
    Invoke-RestMethod -Method $Method -Uri ($h.qdrantUrl.TrimEnd('/') + $Path) -Headers @{ 'api-key' = $h.qdrantKey } `
        -ContentType 'application/json' -Body ($Body | ConvertTo-Json -Depth 10 -Compress)
}

function Get-StandInStats {
    <# Requests the stand-ins have served so far: qdrantScrolls (REST and gRPC), qdrantRequests, pineconeRequests. #>
    Invoke-StandInCommand 'stats'
}
