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
        'Test-VectorMigration'
        'New-QdrantTarget'
        'New-PineconeTarget'
        # Milvus / Zilliz Cloud
        'Get-MilvusCollection'
        'Get-MilvusEntity'
        'Write-MilvusEntity'
        'New-MilvusSource'
        'New-MilvusTarget'
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
            # What the PowerShell Gallery shows; Publish-PSResource (./build.ps1 -Package) puts them in the .nuspec.
            Tags         = @('Qdrant', 'Pinecone', 'PostgreSQL', 'pgvector', 'VectorDatabase', 'Migration',
                             'Embeddings', 'AzureAutomation', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/VecMigrate/VecMigrate'
            LicenseUri   = 'https://github.com/VecMigrate/VecMigrate/blob/main/LICENSE'
            ReleaseNotes = '0.1.0: the first release. Streams records from Qdrant (REST or gRPC), Pinecone and
PostgreSQL/pgvector into pgvector, Qdrant and Pinecone with binary COPY and batched upserts; checkpoints and
-Resume (Copy-VectorData); order-independent digests to verify a copy (Measure-VectorDigest, Compare-VectorDigest).
Get-Help about_VecMigrate for the record model and type mappings.'
        }
    }
}
