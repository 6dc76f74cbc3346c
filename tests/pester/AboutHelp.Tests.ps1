#Requires -Version 7.4
# Get-Help about_VecMigrate: found where PowerShell looks (module/en-US/about_VecMigrate.help.txt is laid out by the
# build beside the cmdlet help, in module/bin/deps/en-US), covering what it promises, and linking only real cmdlets.
# Reads nothing from the environment; needs the module built (dotnet build -c Release).

BeforeAll {
    $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Manifest = Import-PowerShellDataFile (Join-Path $Repo 'VecMigrate.psd1')
    Import-Module (Join-Path $Repo 'VecMigrate.psd1') -Force
    $script:Topic = Get-Help about_VecMigrate -ErrorAction Stop | Out-String
    $script:SeeAlso = (($Topic -split '(?m)^SEE ALSO\s*$')[1] -split '(?m)^\S')[0] -split '\r?\n' |
        ForEach-Object Trim | Where-Object { $_ }
}

AfterAll {
    Remove-Module VecMigrate -ErrorAction Ignore
}

Describe 'about_VecMigrate' {
    It 'is found by Get-Help once the module is imported' {
        $Topic | Should -Match '(?m)^TOPIC\s+about_VecMigrate'
    }

    It 'explains <_>' -ForEach 'THE RECORD MODEL', 'TYPE MAPPING: INTO POSTGRES', 'TYPE MAPPING: INTO QDRANT',
        'TYPE MAPPING: INTO PINECONE', 'READING: FROM EACH SYSTEM', 'GRPC', 'CHECKPOINTS AND RESUME', 'VERIFICATION' {
        $Topic | Should -Match "(?m)^$([regex]::Escape($_))"
    }

    It 'links every exported cmdlet and nothing else' {
        $SeeAlso | Should -Not -BeNullOrEmpty
        $SeeAlso | Sort-Object | Should -Be ($Manifest.CmdletsToExport | Sort-Object)
        foreach ($name in $SeeAlso) { Get-Command $name -Module VecMigrate -ErrorAction Stop | Should -Not -BeNullOrEmpty }
    }

    It 'names only parameters the cmdlets have, in its examples' {
        # Every "Verb-Noun ... -Parameter" on one line of the topic: the parameter must exist on that cmdlet.
        $cmdlets = @{}
        foreach ($c in Get-Command -Module VecMigrate) { $cmdlets[$c.Name] = $c }
        $checked = 0
        foreach ($line in $Topic -split '\r?\n') {
            foreach ($segment in $line -split '\|') {
                if ($segment -notmatch '\b(?<name>[A-Z][a-z]+-[A-Za-z]+)\b(?<rest>.*)$' -or -not $cmdlets[$Matches.name]) { continue }
                $command = $cmdlets[$Matches.name]
                foreach ($p in [regex]::Matches($Matches.rest, '(?<=\s)-(?<p>[A-Z][A-Za-z]+)')) {
                    $name = $p.Groups['p'].Value
                    $command.Parameters.Keys + @($command.Parameters.Values.Aliases) | Should -Contain $name -Because "about_VecMigrate: $($line.Trim())"
                    $checked++
                }
            }
        }
        $checked | Should -BeGreaterThan 10
    }
}
