#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the VecMigrate module into module/bin (and optionally runs the tests).
.DESCRIPTION
    Runs the same dotnet commands as the README, for people who have pwsh: the build itself needs
    only the .NET SDK, so `dotnet build -c Release` in the repository root does the same.
.EXAMPLE
    ./build.ps1 -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Also run the module tests (the pwsh-gated import test runs because pwsh is present).
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
$solution = Join-Path $PSScriptRoot 'VecMigrate.sln'

dotnet build $solution -c $Configuration
if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE" }

if ($Test) {
    dotnet test $solution -c $Configuration --no-build --filter 'FullyQualifiedName~Module'
    if ($LASTEXITCODE) { throw "dotnet test failed with exit code $LASTEXITCODE" }
}

Write-Host "Module ready: Import-Module $(Join-Path $PSScriptRoot 'VecMigrate.psd1')"
