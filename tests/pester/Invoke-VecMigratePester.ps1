#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the module's Pester tests (tests/pester/*.Tests.ps1) against the built module.
.DESCRIPTION
    Imports the Pester that the build restored from NuGet into tests/.tools/Pester (see
    VecMigrate.PesterTests.csproj), runs every *.Tests.ps1 beside this script (or those given), prints
    one closing line "Pester: N passed, N failed, N skipped" and exits non-zero when anything failed.
    Build first: `dotnet build VecMigrate.sln -c Release` (or `dotnet test`, which builds) lays out the module,
    Pester and the stand-in host. The stand-ins and the throwaway Postgres are started once, by the first file
    that needs them, and stopped at the end.
.EXAMPLE
    dotnet tool run pwsh -- -NoProfile -File tests/pester/Invoke-VecMigratePester.ps1
.EXAMPLE
    dotnet tool run pwsh -- -NoProfile -File tests/pester/Invoke-VecMigratePester.ps1 -Path tests/pester/Pipelines.Tests.ps1 -Output Detailed
#>
[CmdletBinding()]
param(
    # Test files or folders; every *.Tests.ps1 beside this script by default.
    [string[]] $Path = $PSScriptRoot,

    # The build configuration whose stand-in host is started.
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Normal'
)

$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
$pester = Join-Path $root 'tests' '.tools' 'Pester' 'Pester.psd1'
if (-not (Test-Path $pester)) {
    throw "Pester is not laid out at ${pester}: build first (dotnet build VecMigrate.sln -c $Configuration)."
}
Import-Module $pester -Force
$env:VECMIGRATE_TEST_CONFIGURATION = $Configuration

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = $Output
$config.Output.RenderMode = 'Plaintext'

# Files share one set of stand-ins (see TestSetup.ps1); this stops them whatever happened.
$global:VecMigrateSharedStandIns = $true
try {
    $result = Invoke-Pester -Configuration $config
}
finally {
    $global:VecMigrateSharedStandIns = $false
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Stop-VecMigrateStandIn -Force
}

# A file that failed to load or a failing BeforeAll counts as failures too (Pester lists them apart).
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
$skipped = $result.SkippedCount + $result.NotRunCount
"Pester $((Get-Module Pester).Version): $($result.TotalCount) tests in $($result.Containers.Count) files, $([int]$result.Duration.TotalSeconds) s"
"Pester: $($result.PassedCount) passed, $failed failed, $skipped skipped"
exit ([int]($failed -gt 0 -or $result.Result -ne 'Passed'))
