# Dot-source to get Start-LocalPostgres and Stop-LocalPostgres: a throwaway PostgreSQL cluster with pgvector on
# a free loopback port, made with initdb in a temporary folder, as the tests' PostgresServer does. Needs
# PostgreSQL's server binaries and pgvector (`bash .ci/install-deps` installs both). As root, the server runs as
# the 'postgres' user (initdb refuses root).

function Find-PostgresBin {
    if ($env:VECMIGRATE_PG_BIN -and (Test-Path (Join-Path $env:VECMIGRATE_PG_BIN 'initdb'))) { return $env:VECMIGRATE_PG_BIN }
    Get-ChildItem -Path '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore |
        Sort-Object { [int]($_.Directory.Parent.Name -replace '\D', '') } -Descending |
        Select-Object -First 1 | ForEach-Object { $_.DirectoryName }
}

function Invoke-AsPostgres([string] $file, [string[]] $arguments, [bool] $asPostgres) {
    $output = if ($asPostgres) { & runuser -u postgres -- $file @arguments 2>&1 } else { & $file @arguments 2>&1 }
    if ($LASTEXITCODE) { throw "$(Split-Path $file -Leaf) $($arguments -join ' ') exited $LASTEXITCODE`: $($output -join "`n")" }
}

function Start-LocalPostgres {
    [CmdletBinding()]
    param([string] $Database = 'vecmigrate_sample')
    $bin = Find-PostgresBin
    if (-not $bin) { throw 'PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin: run `bash .ci/install-deps` (as root) first.' }
    $asPostgres = [System.Environment]::UserName -eq 'root'
    $data = Join-Path ([System.IO.Path]::GetTempPath()) ('vecmigrate-sample-pg-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $data
    if ($asPostgres) { & chown postgres:postgres $data }
    Invoke-AsPostgres (Join-Path $bin 'initdb') @('-D', $data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync') $asPostgres

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $options = "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$data"
    Invoke-AsPostgres (Join-Path $bin 'pg_ctl') @('-D', $data, '-l', (Join-Path $data 'server.log'), '-o', $options, '-w', '-t', '60', 'start') $asPostgres

    $server = [pscustomobject]@{
        Bin = $bin; DataDirectory = $data; Port = $port; AsPostgres = $asPostgres; Database = $Database
        ConnectionString = "Host=127.0.0.1;Port=$port;Username=postgres;Database=$Database"
    }
    try {
        $psql = Join-Path $bin 'psql'
        & $psql -h 127.0.0.1 -p $port -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $Database" | Out-Null
        if ($LASTEXITCODE) { throw "CREATE DATABASE failed (psql exited $LASTEXITCODE)." }
        & $psql -h 127.0.0.1 -p $port -U postgres -d $Database -qAt -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS vector' | Out-Null
        if ($LASTEXITCODE) { throw 'CREATE EXTENSION vector failed: is pgvector installed? (`bash .ci/install-deps`)' }
    }
    catch {
        Stop-LocalPostgres $server
        throw
    }
    $server
}

function Stop-LocalPostgres {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Server)
    try { Invoke-AsPostgres (Join-Path $Server.Bin 'pg_ctl') @('-D', $Server.DataDirectory, '-m', 'immediate', '-w', 'stop') $Server.AsPostgres }
    catch { Write-Warning "Stopping the sample Postgres: $_" }
    Remove-Item -LiteralPath $Server.DataDirectory -Recurse -Force -ErrorAction Ignore
}
