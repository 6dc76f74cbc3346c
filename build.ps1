#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the VecMigrate module into module/bin, optionally runs the tests, and optionally packages it.
.DESCRIPTION
    Runs the same dotnet commands as the README, for people who have pwsh: the build itself needs
    only the .NET SDK, so `dotnet build -c Release` in the repository root does the same.

    -Package lays the module out in out/VecMigrate (only what Import-Module needs: the manifest, the
    .psm1, the format file, module/bin with the cmdlet assembly, its dependencies and help, LICENSE
    and the bundled libraries' notices), then writes
      out/VecMigrate.<version>.nupkg   for the PowerShell Gallery (or any PSResourceGet repository):
                                       Publish-PSResource -NupkgPath it, or Publish-PSResource -Path out/VecMigrate
      out/VecMigrate.zip               for Azure Automation (a PowerShell 7.4 runtime environment's
                                       "Add a module" from a file): a zip named as the module whose one
                                       root folder, VecMigrate, holds VecMigrate.psd1
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    ./build.ps1 -Package
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Also run the module tests (the pwsh-gated import test runs because pwsh is present).
    [switch] $Test,

    # Also write the Gallery package and the Azure Automation zip into -OutputPath.
    [switch] $Package,

    # Where -Package writes; out/ in the repository (git ignores it) by default.
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out')
)

$ErrorActionPreference = 'Stop'
$solution = Join-Path $PSScriptRoot 'VecMigrate.sln'

# -Package alone needs only the module (src/VecMigrate builds the engine and the loader too); the tests need all.
$project = if ($Package -and -not $Test) { Join-Path $PSScriptRoot 'src/VecMigrate/VecMigrate.csproj' } else { $solution }
dotnet build $project -c $Configuration
if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE" }

if ($Test) {
    dotnet test $solution -c $Configuration --no-build --filter 'FullyQualifiedName~Module'
    if ($LASTEXITCODE) { throw "dotnet test failed with exit code $LASTEXITCODE" }
}

if (-not $Package) {
    Write-Host "Module ready: Import-Module $(Join-Path $PSScriptRoot 'VecMigrate.psd1')"
    return
}

# ---- the package's layout: the checkout's own, less everything Import-Module does not read ----------
$manifestPath = Join-Path $PSScriptRoot 'VecMigrate.psd1'
$manifest = Import-PowerShellDataFile -LiteralPath $manifestPath
$version = $manifest.ModuleVersion
$out = [System.IO.Path]::GetFullPath($OutputPath)
$stage = Join-Path $out 'VecMigrate'
if (Test-Path -LiteralPath $stage) { Remove-Item -LiteralPath $stage -Recurse -Force }
$null = New-Item -ItemType Directory -Path $stage -Force

function Copy-IntoStage([string] $relative) {
    $from = Join-Path $PSScriptRoot $relative
    $to = Join-Path $stage $relative
    $null = New-Item -ItemType Directory -Path (Split-Path $to) -Force
    Copy-Item -LiteralPath $from -Destination $to
}

Copy-IntoStage 'VecMigrate.psd1'
Copy-IntoStage 'LICENSE'
Copy-IntoStage $manifest.RootModule
foreach ($format in $manifest.FormatsToProcess) { Copy-IntoStage $format }
# module/bin as the build laid it out (the loader, deps/ with the cmdlets, their dependencies and help),
# without debug symbols.
$bin = Join-Path $PSScriptRoot 'module/bin'
Get-ChildItem -LiteralPath $bin -Recurse -File | Where-Object Extension -ne '.pdb' | ForEach-Object {
    Copy-IntoStage ([System.IO.Path]::GetRelativePath($PSScriptRoot, $_.FullName))
}

# The licenses of the libraries shipped in module/bin/deps (MIT and the PostgreSQL license both ask that
# their notice travel with every copy): read from the restore's assets file and the NuGet cache.
$assets = Get-Content -Raw (Join-Path $PSScriptRoot 'src/VecMigrate/obj/project.assets.json') | ConvertFrom-Json -AsHashtable
$shipped = Get-ChildItem -LiteralPath (Join-Path $stage 'module/bin/deps') -Filter *.dll | ForEach-Object Name
$notices = [System.Text.StringBuilder]::new()
$null = $notices.AppendLine('VecMigrate bundles these libraries in module/bin/deps, each under its own license:').AppendLine()
foreach ($target in $assets.targets.Values) {
    foreach ($entry in $target.GetEnumerator()) {
        if ($entry.Value.type -ne 'package' -or -not $entry.Value.runtime) { continue }
        $dlls = @($entry.Value.runtime.Keys | ForEach-Object { Split-Path $_ -Leaf } | Where-Object { $_ -in $shipped })
        if (-not $dlls) { continue }
        $id, $packageVersion = $entry.Key -split '/'
        $folder = Join-Path $assets.project.restore.packagesPath "$($id.ToLowerInvariant())/$packageVersion"
        $nuspec = [xml](Get-Content -Raw (Join-Path $folder "$($id.ToLowerInvariant()).nuspec"))
        $meta = $nuspec.package.metadata
        $license = if ($meta.license) { $meta.license.InnerText } else { $meta.licenseUrl }
        $null = $notices.AppendLine("$id $packageVersion ($($dlls -join ', ')): $license; $($meta.projectUrl)")
        foreach ($file in 'LICENSE.TXT', 'LICENSE.txt', 'LICENSE', 'LICENSE.md') {
            $path = Join-Path $folder $file
            if (Test-Path -LiteralPath $path) {
                $null = $notices.AppendLine().AppendLine((Get-Content -Raw -LiteralPath $path).Trim()).AppendLine()
                break
            }
        }
    }
}
Set-Content -LiteralPath (Join-Path $stage 'THIRD-PARTY-NOTICES.txt') -Value $notices.ToString() -NoNewline

# Every file the manifest names must be in the package, at the path it names.
$staged = Test-ModuleManifest -Path (Join-Path $stage 'VecMigrate.psd1')
foreach ($relative in @($manifest.RootModule) + @($manifest.FormatsToProcess)) {
    if (-not (Test-Path -LiteralPath (Join-Path $stage $relative))) { throw "The package lacks $relative, which the manifest names." }
}

# ---- (a) the Gallery package -----------------------------------------------------------------------
$nupkg = Join-Path $out "VecMigrate.$version.nupkg"
Remove-Item -LiteralPath $nupkg -ErrorAction Ignore
Compress-PSResource -Path $stage -DestinationPath $out
if (-not (Test-Path -LiteralPath $nupkg)) { throw "Compress-PSResource did not write $nupkg." }

# ---- (b) the Azure Automation zip: VecMigrate.zip → VecMigrate/VecMigrate.psd1 ----------------------
$zip = Join-Path $out 'VecMigrate.zip'
Remove-Item -LiteralPath $zip -ErrorAction Ignore
[System.IO.Compression.ZipFile]::CreateFromDirectory($stage, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $true)

Write-Host "Packaged VecMigrate $($staged.Version):"
Write-Host "  $nupkg   (PowerShell Gallery: Publish-PSResource -NupkgPath)"
Write-Host "  $zip   (Azure Automation: a PowerShell 7.4 runtime environment's module from a file)"
