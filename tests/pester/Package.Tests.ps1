#Requires -Version 7.4
# The module installs the way modules install: ./build.ps1 -Package makes the Gallery package and the Azure Automation
# zip; the package goes through a PSResourceGet file repository into an empty module path of a fresh pwsh, is imported
# by name and runs a migration end to end.
#
# Reads:
#   VECMIGRATE_TEST_PG   a Postgres connection string (Npgsql key=value) to a database where pgvector can be used, for
#                        the migration; when it is not set, this file starts its own throwaway cluster with
#                        samples/LocalPostgres.ps1 (PostgreSQL and pgvector from `bash .ci/install-deps`).
# Needs the .NET SDK (the package is built here) and PSResourceGet (part of pwsh 7.4+). Every child pwsh runs with
# HOME and the XDG folders in this test's TestDrive, so the repository it registers and the module it installs never
# touch the user's own PSResourceGet settings or module folders.

BeforeAll {
    $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Manifest = Import-PowerShellDataFile (Join-Path $Repo 'VecMigrate.psd1')
    $script:Out = Join-Path $TestDrive 'out'
    & (Join-Path $Repo 'build.ps1') -Package -OutputPath $Out *> (Join-Path $TestDrive 'build.log')
    $script:Nupkg = Join-Path $Out "VecMigrate.$($Manifest.ModuleVersion).nupkg"
    $script:Zip = Join-Path $Out 'VecMigrate.zip'

    # A fresh pwsh: the one running this file (its own apphost), without profile, with data folders of the test's own.
    function Invoke-FreshPwsh([string] $script, [hashtable] $environment = @{}) {
        $file = Join-Path $TestDrive "child-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content -LiteralPath $file -Value $script
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $saved = @{}
        # .NET answers an XDG folder that does not exist with '' (and PSResourceGet then falls back to the home folder, NuGet to
        # the current one): make them first, and run the child in the TestDrive.
        # PSResourceGet installs CurrentUser modules under $HOME/.local/share/powershell/Modules, whatever XDG_DATA_HOME says.
        foreach ($name in 'HOME', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') {
            $environment[$name] = (New-Item -ItemType Directory -Path (Join-Path $TestDrive $name) -Force).FullName
        }
        foreach ($name in $environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $(if ($null -eq $environment[$name]) { [NullString]::Value } else { $environment[$name] }))
        }
        Push-Location $TestDrive
        try {
            $output = & $pwsh -NoProfile -NonInteractive -File $file 2>&1 | ForEach-Object { "$_" }
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output -join "`n" }
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $(if ($null -eq $saved[$name]) { [NullString]::Value } else { $saved[$name] })) }
        }
    }

    function Get-ZipEntries([string] $path) {
        $archive = [System.IO.Compression.ZipFile]::OpenRead($path)
        try { @($archive.Entries | Where-Object { $_.Name } | ForEach-Object FullName) }
        finally { $archive.Dispose() }
    }
}

Describe 'The manifest' {
    It 'passes Test-ModuleManifest and carries what the Gallery shows' {
        $m = Test-ModuleManifest -Path (Join-Path $Repo 'VecMigrate.psd1') -ErrorAction Stop
        $m.ProjectUri | Should -Not -BeNullOrEmpty
        $m.LicenseUri.AbsoluteUri | Should -Match '/LICENSE$'
        $m.ReleaseNotes | Should -Match ([regex]::Escape($m.Version.ToString()))
        $m.Tags | Should -Contain 'PSEdition_Core'
        Join-Path $Repo 'LICENSE' | Should -Exist
        # Explicit lists: every cmdlet by name, and nothing else exported.
        $m.ExportedCmdlets.Keys | Should -Be $Manifest.CmdletsToExport
        $Manifest.FunctionsToExport, $Manifest.AliasesToExport, $Manifest.VariablesToExport | ForEach-Object { @($_).Count | Should -Be 0 }
    }
}

Describe 'The Gallery package' {
    It 'holds the manifest, what it names, module/bin and the licenses, and nothing else' {
        $Nupkg | Should -Exist
        $entries = Get-ZipEntries $Nupkg | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|VecMigrate\.nuspec$)' }
        $entries | Should -Contain 'VecMigrate.psd1'
        $entries | Should -Contain $Manifest.RootModule
        foreach ($f in $Manifest.FormatsToProcess) { $entries | Should -Contain $f }
        $entries | Should -Contain 'module/bin/VecMigrate.LoadContext.dll'
        $entries | Should -Contain 'module/bin/deps/VecMigrate.dll'
        $entries | Should -Contain 'module/bin/deps/en-US/VecMigrate.dll-Help.xml'
        $entries | Should -Contain 'LICENSE'
        $entries | Should -Contain 'THIRD-PARTY-NOTICES.txt'
        $others = $entries | Where-Object { $_ -notmatch '^(VecMigrate\.psd1|LICENSE|THIRD-PARTY-NOTICES\.txt|module/VecMigrate\.(psm1|Format\.ps1xml)|module/bin/(deps/)?[^/]+\.dll|module/bin/deps/en-US/[^/]+)$' }
        $others | Should -BeNullOrEmpty -Because 'the package holds only what Import-Module reads (no sources, tests, symbols)'
    }

    It 'names every library it bundles in THIRD-PARTY-NOTICES.txt' {
        $notices = (Join-Path $Out 'VecMigrate/THIRD-PARTY-NOTICES.txt')
        $bundled = Get-ZipEntries $Nupkg | Where-Object { $_ -match '^module/bin/deps/[^/]+\.dll$' } | ForEach-Object { Split-Path $_ -Leaf } |
            Where-Object { $_ -notlike 'VecMigrate*' }
        $bundled | Should -Not -BeNullOrEmpty
        foreach ($dll in $bundled) { $notices | Should -FileContentMatch ([regex]::Escape($dll)) }
    }

    It 'publishes to a file repository, installs by name into an empty module path and migrates end to end' {
        $server = $null
        $connection = $env:VECMIGRATE_TEST_PG
        if (-not $connection) {
            . (Join-Path $Repo 'samples/LocalPostgres.ps1')
            $server = Start-LocalPostgres -Database 'vecmigrate_package'
            $connection = $server.ConnectionString
        }
        try {
            $table = 'package_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            $child = @'
$ErrorActionPreference = 'Stop'
$repository = Join-Path $env:XDG_DATA_HOME 'repository'
$null = New-Item -ItemType Directory -Path $repository -Force
Register-PSResourceRepository -Name VecMigrateTest -Uri $repository -Trusted
Publish-PSResource -NupkgPath $env:TEST_NUPKG -Repository VecMigrateTest
Install-PSResource -Name VecMigrate -Repository VecMigrateTest -Scope CurrentUser -TrustRepository
$installed = (Get-InstalledPSResource -Name VecMigrate -Scope CurrentUser).InstalledLocation
if (-not $installed.StartsWith($env:HOME)) {
    Uninstall-PSResource -Name VecMigrate -Scope CurrentUser
    throw "Install-PSResource installed into $installed, outside the test's HOME $env:HOME."
}
# The installed modules and PowerShell's own, nothing else: the checkout's module cannot be found by name.
$env:PSModulePath = $installed, (Join-Path $PSHOME 'Modules') -join [IO.Path]::PathSeparator
Import-Module VecMigrate
$module = Get-Module VecMigrate
$records = Get-Content -LiteralPath $env:TEST_SAMPLE -TotalCount 300 | ConvertFrom-Json | ConvertTo-PgVectorRecord
$summary = $records | Write-PgVector -ConnectionString $env:TEST_PG -Table $env:TEST_TABLE -Index Hnsw -IndexMetric Cosine
$check = Compare-VectorDigest ($records | Measure-VectorDigest) (Get-PgVector -ConnectionString $env:TEST_PG -Table $env:TEST_TABLE | Measure-VectorDigest)
[pscustomobject]@{
    Installed = $installed
    ModuleBase = $module.ModuleBase
    Version = "$($module.Version)"
    Cmdlets = @($module.ExportedCmdlets.Keys)
    Written = $summary.RecordsWritten
    Equal = $check.Equal
    TargetCount = $check.TargetCount
    CmdletHelp = (Get-Help Write-PgVector).Synopsis
    AboutHelp = Get-Help about_VecMigrate | Out-String
} | ConvertTo-Json -Compress
'@
            $run = Invoke-FreshPwsh $child @{
                TEST_NUPKG = $Nupkg; TEST_PG = $connection; TEST_TABLE = $table
                TEST_SAMPLE = (Join-Path $Repo 'samples/docs.jsonl')
            }
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $result = ($run.Output -split "`n")[-1] | ConvertFrom-Json
            $result.ModuleBase | Should -BeLike "$(Join-Path $TestDrive 'HOME')*" -Because 'the module came from the install, not the checkout'
            $result.ModuleBase | Should -BeLike "$($result.Installed)*"
            $result.Version | Should -Be $Manifest.ModuleVersion
            $result.Cmdlets | Sort-Object | Should -Be ($Manifest.CmdletsToExport | Sort-Object)
            $result.Written | Should -Be 300
            $result.TargetCount | Should -Be 300
            $result.Equal | Should -BeTrue
            $result.CmdletHelp | Should -Not -BeNullOrEmpty
            $result.CmdletHelp | Should -Not -Match '^\s*Write-PgVector\s'  # generated syntax-only help would start with the name
            $result.AboutHelp | Should -Match '(?m)^TOPIC\s+about_VecMigrate'
        }
        finally {
            if ($server) { Stop-LocalPostgres $server }
        }
    }
}

Describe 'The Azure Automation zip' {
    BeforeAll {
        $script:ZipEntries = Get-ZipEntries $Zip
    }

    It 'is named as the module and holds one folder of that name with the manifest at its top' {
        [System.IO.Path]::GetFileNameWithoutExtension($Zip) | Should -Be 'VecMigrate'
        $ZipEntries | ForEach-Object { ($_ -split '/')[0] } | Sort-Object -Unique | Should -Be 'VecMigrate'
        $ZipEntries | Should -Contain 'VecMigrate/VecMigrate.psd1'
    }

    It 'holds the same files as the Gallery package' {
        $fromNupkg = Get-ZipEntries $Nupkg | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|VecMigrate\.nuspec$)' }
        $ZipEntries | ForEach-Object { $_.Substring('VecMigrate/'.Length) } | Sort-Object | Should -Be ($fromNupkg | Sort-Object)
    }

    It 'keeps every path within the 140 characters Azure Automation imports' {
        $ZipEntries | Where-Object Length -gt 140 | Should -BeNullOrEmpty
    }

    It 'imports by name from the unzipped folder and runs its cmdlets' {
        $modules = Join-Path $TestDrive 'automation-modules'
        Expand-Archive -LiteralPath $Zip -DestinationPath $modules
        $child = @'
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $env:TEST_MODULES, (Join-Path $PSHOME 'Modules') -join [IO.Path]::PathSeparator
Import-Module VecMigrate
$digest = [pscustomobject]@{ id = 7; embedding = @(0.25, 0.5); title = 'x' } | ConvertTo-PgVectorRecord | Measure-VectorDigest
$about = (Get-Help about_VecMigrate | Out-String) -match '(?m)^TOPIC\s+about_VecMigrate'
[pscustomobject]@{ ModuleBase = (Get-Module VecMigrate).ModuleBase; Count = $digest.Count; About = $about } | ConvertTo-Json -Compress
'@
        $run = Invoke-FreshPwsh $child @{ TEST_MODULES = $modules }
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $result = ($run.Output -split "`n")[-1] | ConvertFrom-Json
        $result.ModuleBase | Should -Be (Join-Path $modules 'VecMigrate')
        $result.Count | Should -Be 1
        $result.About | Should -BeTrue -Because 'Get-Help about_VecMigrate works in the runbook sandbox too'
    }
}
