# The module as PowerShell sees it: imported from the checkout, every cmdlet exported with help and [OutputType].
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $cmdlets = (Get-Command -Module VecMigrate).Name
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $commands = Get-Command -Module VecMigrate
}

Describe 'The VecMigrate module' {
    It 'imports from the checkout with the version of Directory.Build.props' {
        $props = [xml](Get-Content (Join-Path $RepoRoot 'Directory.Build.props') -Raw)
        (Get-Module VecMigrate).Version | Should -Be ([version]$props.Project.PropertyGroup.VersionPrefix.Trim())
    }

    It 'exports every cmdlet the manifest lists, and only those' {
        $manifest = Import-PowerShellDataFile $Manifest
        $commands.Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It '<_> has a synopsis, an example and an OutputType' -ForEach $cmdlets {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\S+\s*\[' # not the generated syntax line: the MAML help was found
        @($help.examples.example).Count | Should -BeGreaterThan 0
        (Get-Command $_).OutputType | Should -Not -BeNullOrEmpty
    }
}
