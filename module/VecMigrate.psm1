# Loads VecMigrate's cmdlets through its own AssemblyLoadContext (src/VecMigrate.LoadContext), so
# that the Npgsql and Microsoft.Extensions.* it ships cannot clash with another module's copies.
# Only the small loader assembly lives in PowerShell's default context.

$loaderTypeName = 'VecMigrate.LoadContext.VecMigrateLoadContext'
$loaderType = $loaderTypeName -as [type]
if (-not $loaderType) {
    $loaderPath = [System.IO.Path]::Combine($PSScriptRoot, 'bin', 'VecMigrate.LoadContext.dll')
    if (-not [System.IO.File]::Exists($loaderPath)) {
        throw "VecMigrate is not built: '$loaderPath' is missing. In the repository root run: dotnet build -c Release"
    }
    Add-Type -LiteralPath $loaderPath
    $loaderType = $loaderTypeName -as [type]
}

$cmdletAssembly = $loaderType::LoadModule()
$cmdletModule = Microsoft.PowerShell.Core\Import-Module -Assembly $cmdletAssembly -PassThru

# On a second import (Import-Module -Force, or Remove-Module then Import-Module) PowerShell hands
# back its cached module for the assembly without adding its cmdlets to this module, which then
# exports nothing. Importing that module object into this scope adds them every time.
Microsoft.PowerShell.Core\Import-Module -ModuleInfo $cmdletModule
