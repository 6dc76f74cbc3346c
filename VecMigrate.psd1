# Module manifest for VecMigrate. Pure data: tests/VecMigrate.Module.Tests reads it without PowerShell.
# ModuleVersion must equal VersionPrefix in Directory.Build.props; CmdletsToExport is the one list of
# the module's commands, checked against the cmdlets compiled into VecMigrate.dll.
@{
    RootModule           = 'module/VecMigrate.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '8b731519-d5be-4758-b5e2-57ef0234839e'
    Author               = 'VecMigrate developers'
    CompanyName          = 'VecMigrate developers'
    Copyright            = '(c) VecMigrate developers'
    Description          = 'Migrates vector data between Qdrant, Pinecone and PostgreSQL/pgvector.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('module/VecMigrate.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-QdrantCollection'
        'Get-QdrantPoint'
        'Get-PineconeIndex'
        'Get-PineconeVector'
        'Get-PgVector'
        'ConvertTo-PgVectorRecord'
        'Write-PgVector'
        'Get-VecMigrateCheckpoint'
        'Remove-VecMigrateCheckpoint'
        'Write-QdrantPoint'
        'Write-PineconeVector'
        # Copy-VectorData and its source/target specs
        'New-QdrantSource'
        'New-PineconeSource'
        'New-PgVectorSource'
        'New-PgVectorTarget'
        'Copy-VectorData'
        'Measure-VectorDigest'
        'Compare-VectorDigest'
        'New-QdrantTarget'
        'New-PineconeTarget'
        # Files (Parquet, JSONL)
        'Export-VectorRecord'
        'Import-VectorRecord'
        'Get-VectorFileInfo'
        'New-FileSource'
        'New-FileTarget'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('Qdrant', 'Pinecone', 'PostgreSQL', 'pgvector', 'VectorDatabase', 'Migration')
        }
    }
}
