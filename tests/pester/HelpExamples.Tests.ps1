# Every example of every cmdlet's help (Get-Help -Examples), run as written against the stand-ins and the test Postgres.
#
# What is changed before an example runs, and only this: the hosts it names (qdrant:6333, qdrant.example.com,
# localhost:6333/5080/5081/19530, old/new:6333, milvus:19530, the Zilliz Cloud endpoint, pg, pg.internal, db,
# *.svc.pinecone.io) become the stand-ins' and the test Postgres's addresses, the database it names becomes a fresh
# one, D:\vecmigrate a temporary folder, and Import-Module VecMigrate imports the checkout's module. Defaults that point at the real services (Qdrant's localhost:6333,
# Pinecone's api.pinecone.io, Milvus's localhost:19530) are sent to the stand-ins with $PSDefaultParameterValues, as a
# user would for a test server; $env:ZILLIZ_API_KEY and $env:MILVUS_TOKEN hold the Milvus stand-in's token. The
# secrets and credentials an example gets from outside (Get-Secret, Get-AutomationPSCredential, Get-Credential) come
# from functions of the same name that answer with the stand-ins' keys (root's password is Milvus's default). Files an
# example reads (docs.csv, items.jsonl, ids.txt, and docs.parquet and movies.jsonl.gz exported from the stand-ins'
# docs and movies before any example ran) are in its working folder. An example then passes when it ends without an
# error (or with the errors it is about) and its output is what its remarks say, where the test checks that.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    # Examples that cannot run here, by "<cmdlet> #<n>", with the reason. None today: every example runs.
    $cannotRun = @{}
    $all = foreach ($command in Get-Command -Module VecMigrate | Sort-Object Name) {
        $n = 0
        foreach ($example in (Get-Help $command.Name).examples.example) {
            $n++
            @{ Name = "$($command.Name) #$n"; Code = $example.code; Remarks = (($example.remarks | ForEach-Object Text) -join ' ').Trim() }
        }
    }
    $examples = @($all | Where-Object { -not $cannotRun.ContainsKey($_.Name) })
    $notRun = @($cannotRun.GetEnumerator() | ForEach-Object { @{ Name = $_.Key; Reason = $_.Value; Known = @($all.Name) -contains $_.Key } })
}

Describe 'Help examples that cannot run here' {
    It 'there are examples, and every one is run or listed with a reason' -ForEach @{ Found = @($all).Count; Run = $examples.Count; Listed = $notRun.Count } {
        $Found | Should -BeGreaterThan 0
        $Run + $Listed | Should -Be $Found
    }

    It '<Name> cannot run: <Reason>' -ForEach $notRun {
        $Known | Should -BeTrue -Because 'a listed example must still be in the help'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $qurl = $h.qdrantUrl.TrimEnd('/')
    $purl = $h.pineconeUrl.TrimEnd('/')
    $qkey = $h.qdrantKey
    $pkey = $h.pineconeKey
    $pgPort = $h.postgresPort
    $murl = $h.milvusUrl.TrimEnd('/')
    $mkey = $h.milvusToken
    # The connection string examples name user 'app'; trust authentication lets any role in, but it must exist.
    $null = Invoke-Sql $h.connectionString "DO `$`$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app LOGIN SUPERUSER; END IF; END `$`$"

    # Pinecone indexes the examples name, beside "movies" (4 dims): docs (8, as Qdrant's docs), products (4, filled
    # from movies), test (4, Pinecone Local's example), hybrid (4 + sparse), and the index on "localhost:5081".
    foreach ($index in @(@('docs', 8, 'cosine'), @('products', 4, 'cosine'), @('test', 4, 'cosine'), @('hybrid', 4, 'dotproduct'), @('archive8', 8, 'cosine'))) {
        New-TestPineconeIndex @index
    }
    $null = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Write-PineconeVector -Url $purl -ApiKey $pkey -IndexName products
    $indexHost = @{}
    Get-PineconeIndex -Url $purl -ApiKey $pkey | ForEach-Object { $indexHost[$_.Name] = $_.Host }

    # Qdrant collections the examples name, beside "docs": products (4 dims, made beforehand for -NoCreate) and hybrid
    # (a named dense vector "text" and a sparse one "bm25").
    $null = Invoke-QdrantRest PUT '/collections/products' @{ vectors = @{ size = 4; distance = 'Cosine' } }
    $null = Invoke-QdrantRest PUT '/collections/hybrid' @{ vectors = @{ text = @{ size = 4; distance = 'Dot' } }; sparse_vectors = @{ bm25 = @{} } }
    $null = Invoke-QdrantRest PUT '/collections/hybrid/points?wait=true' @{ points = @(1..5 | ForEach-Object {
                @{ id = $_; vector = @{ text = @(0.5, $_, -1.25, 2); bm25 = @{ indices = @(1, (7 + $_)); values = @(0.5, 0.25) } }; payload = @{ n = $_ } } }) }

    # Files the file examples read, exported once from the stand-ins as they are seeded.
    $templates = Join-Path ([IO.Path]::GetTempPath()) (New-UniqueName 'vecmigrate-files')
    $null = New-Item -ItemType Directory -Path $templates
    $null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Export-VectorRecord -Path (Join-Path $templates 'docs.parquet')
    $null = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Export-VectorRecord -Path (Join-Path $templates 'movies.jsonl.gz')

    function Get-Secret([string] $Name, [switch] $AsPlainText) {
        $text = if ($Name -like 'Pinecone*') { $pkey } elseif ($Name -like 'Zilliz*' -or $Name -like 'Milvus*') { $mkey } else { $qkey }
        if ($AsPlainText) { $text } else { ConvertTo-SecureString $text -AsPlainText -Force }
    }
    function Get-AutomationPSCredential([string] $Name) {
        if ($Name -eq 'pinecone') { [pscredential]::new('pinecone', (ConvertTo-SecureString $pkey -AsPlainText -Force)) }
        else { [pscredential]::new('postgres', (ConvertTo-SecureString 'not-checked' -AsPlainText -Force)) }
    }
    function Get-Credential([string] $UserName) {
        # Postgres trusts loopback; Milvus's root wants its default password.
        $password = if ($UserName -eq 'root') { ($mkey -split ':', 2)[1] } else { 'not-checked' }
        [pscredential]::new($UserName, (ConvertTo-SecureString $password -AsPlainText -Force))
    }

    # Fills the table docs of a database from Qdrant's docs, title and year as columns (as Get-PgVector's examples read it).
    function Initialize-DocsTable([string] $ConnectionString) {
        $null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs |
            ConvertTo-PgVectorRecord -Column ([ordered]@{ title = 'text'; year = 'int' }) |
            Write-PgVector -ConnectionString $ConnectionString -Table docs
    }

    # Fills the table docs with Qdrant's docs and a tenant column (the partition key New-MilvusTarget's example names).
    function Initialize-TenantDocsTable([string] $ConnectionString) {
        $null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs |
            ConvertTo-PgVectorRecord -Column ([ordered]@{ title = 'text'; city = 'text' }) -Rename @{ city = 'tenant' } |
            Write-PgVector -ConnectionString $ConnectionString -Table docs
    }

    function Get-MilvusCount([string] $Collection) { (Get-MilvusCollection $Collection -Url $murl -ApiKey $mkey).RowCount }

    # What each example needs beyond the common set-up, the errors it is about, and what its output must be.
    $special = @{
        'Compare-VectorDigest #1'       = @{ PgDocs = $true; Check = { param($out) $out.Equal | Should -BeTrue } }
        'Compare-VectorDigest #2'       = @{ PgDocs = $true; Digests = $true }
        'ConvertTo-PgVectorRecord #1'   = @{ Errors = 'ConvertFieldInvalid'; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 3 } }
        'ConvertTo-PgVectorRecord #2'   = @{ Check = { param($out, $pg) Invoke-Sql $pg "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'docs'" | Should -Be 'id,embedding,doc_title,published,tags,payload' } }
        'ConvertTo-PgVectorRecord #3'   = @{ Check = { param($out, $pg) Invoke-Sql $pg "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'payload'" | Should -Be 0 } }
        'ConvertTo-PgVectorRecord #4'   = @{ Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM small' | Should -Be 2 } }
        'Copy-VectorData #1'            = @{ Check = { param($out) $out.Completed | Should -BeTrue; $out.TotalRecords | Should -Be 1000 } }
        'Copy-VectorData #3'            = @{ Check = { param($out, $pg) Invoke-Sql $pg "SELECT count(*) FROM pg_tables WHERE tablename = 'docs'" | Should -Be 0 } }
        'Copy-VectorData #4'            = @{ PgDocs = $true; Check = { param($out, $pg) $out.Completed | Should -BeTrue; $out.PartitionCount | Should -Be 4; $out.RecordsWritten | Should -Be 1000; Invoke-Sql $pg 'SELECT count(*) FROM docs_v2' | Should -Be 1000 } }
        'Copy-VectorData #5'            = @{ PgDocs = $true; Check = {
                param($out, $pg)
                @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'VecMigrate.Engine.Pipeline.MigrationSummary' }).Count | Should -Be 4
                $checkpoints = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'VecMigrate.Engine.Postgres.PgCheckpointState' })
                $checkpoints.Name | Should -Be @('big', 'big#1/4', 'big#2/4', 'big#3/4', 'big#4/4')
                $checkpoints[0].Completed | Should -BeTrue
                $checkpoints[0].Records | Should -Be 1000
                Invoke-Sql $pg 'SELECT count(*) FROM docs_v2' | Should -Be 1000 } }
        'Get-PgVector #1'               = @{ PgDocs = $true; Check = { param($out) @($out).Count | Should -Be 3 } }
        'Get-PgVector #2'               = @{ PgDocs = $true; Check = { param($out) @($out).Count | Should -Be 200 } }
        'Get-PgVector #3'               = @{ PgDocs = $true; Check = { param($out, $pg, $new) Invoke-Sql $new 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Get-PineconeIndex #2'          = @{ Check = { param($out) $out[''] | Should -Be 30; $out['alpha'] | Should -Be 45 } }
        'Get-PineconeIndex #3'          = @{ Check = { param($out) $out.RecordsWritten | Should -Be 75 } }
        'Get-PineconeVector #1'         = @{ Check = { param($out) $out.RecordsWritten | Should -Be 75 } }
        'Get-PineconeVector #3'         = @{ Check = { param($out) @($out).Id | Sort-Object | Should -Be @('m001', 'm040') } }
        'Get-QdrantCollection #1'       = @{ Check = { param($out) $out.Name | Should -Contain 'docs' } }
        'Get-QdrantCollection #3'       = @{ Check = { param($out) ($out | Where-Object Table -eq 'public.docs').RecordsWritten | Should -Be 1000 } }
        'Get-QdrantPoint #1'            = @{ Check = { param($out) $out.RecordsWritten | Should -Be 1000 } }
        'Get-QdrantPoint #2'            = @{ Check = { param($out) @($out).Count | Should -Be 250 } }
        'Get-QdrantPoint #3'            = @{ Check = {
                param($out)
                $out | ForEach-Object { "$($_.Id)" } | Should -Be @('1', '2', '3', '4', '5')
                $stopped = Get-StandInStats; Start-Sleep -Milliseconds 500
                (Get-StandInStats).qdrantScrolls | Should -Be $stopped.qdrantScrolls -Because 'the source has stopped'
            } }
        'Get-QdrantPoint #4'            = @{ Checkpoint = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Export-VectorRecord #1'        = @{ Check = { param($out, $pg, $new, $dir) (Get-VectorFileInfo (Join-Path (Split-Path $dir) 'docs.parquet')).Records | Should -Be 1000 } }
        'Export-VectorRecord #2'        = @{ Check = { param($out, $pg, $new, $dir) (Get-VectorFileInfo (Join-Path (Split-Path $dir) 'movies.jsonl.gz')).Records | Should -Be 75 } }
        'Get-MilvusCollection #1'       = @{ Check = { param($out) $out.Name | Should -Contain 'docs' } }
        'Get-MilvusCollection #2'       = @{ Check = { param($out) ($out | Out-String) | Should -Match 'RowCount\s*:\s*300' } }
        'Get-MilvusEntity #1'           = @{ Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 300 } }
        'Get-MilvusEntity #2'           = @{ Check = { param($out) $out.Count | Should -Be 100 } }
        'Get-VectorFileInfo #1'         = @{ Files = $true; Check = { param($out) $out.Records | Should -Be 1000 } }
        'Get-VectorFileInfo #2'         = @{ Files = $true; Check = { param($out) ($out | Out-String) | Should -Match 'movies\.jsonl\.gz\s+75' } }
        'Import-VectorRecord #1'        = @{ Files = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Import-VectorRecord #2'        = @{ Files = $true; Check = { param($out) $out.RecordsWritten | Should -Be 75 } }
        'New-FileSource #1'             = @{ Files = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'New-FileSource #2'             = @{ Files = $true; Check = { param($out) $out.TotalRecords | Should -Be 75 } }
        'New-FileTarget #1'             = @{ Check = { param($out, $pg, $new, $dir) (Get-VectorFileInfo (Join-Path (Split-Path $dir) 'movies.jsonl.gz')).Records | Should -Be 75 } }
        'New-FileTarget #2'             = @{ Check = { param($out, $pg, $new, $dir) (Get-VectorFileInfo (Join-Path (Split-Path $dir) 'docs.parquet')).Records | Should -Be 1000 } }
        'New-MilvusSource #1'           = @{ Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 300 } }
        'New-MilvusSource #2'           = @{ Check = { param($out) $out.TotalRecords | Should -Be 300 } }
        'New-MilvusTarget #1'           = @{ PgTenantDocs = $true; DropMilvusDocs = $true; Check = { param($out) Get-MilvusCount docs | Should -Be 1000 } }
        'Write-MilvusEntity #1'         = @{ PgDocs = $true; DropMilvusDocs = $true; Check = { param($out) Get-MilvusCount docs | Should -Be 1000 } }
        'Write-MilvusEntity #2'         = @{ DropMilvusDocs = $true; Check = { param($out) Get-MilvusCount docs | Should -Be 1000 } }
        'Get-VecMigrateCheckpoint #2'   = @{ Checkpoint = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Measure-VectorDigest #1'       = @{ PgDocs = $true; Check = { param($out) $out.Equal | Should -BeTrue } }
        'Measure-VectorDigest #2'       = @{ PgDocs = $true; Digests = $true }
        'New-PgVectorSource #1'         = @{ PgDocs = $true; Check = { param($out, $pg, $new) Invoke-Sql $new 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'New-PgVectorTarget #2'         = @{ PgDocs = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'New-PineconeTarget #2'         = @{ PgDocs = $true }
        'New-QdrantTarget #1'           = @{ PgDocs = $true; DropQdrantDocs = $true }
        'Remove-VecMigrateCheckpoint #1' = @{ Checkpoint = $true; Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Remove-VecMigrateCheckpoint #3' = @{ StateCheckpoint = $true; Check = { param($out, $pg, $new, $dir) Test-Path (Join-Path $dir 'nightly-docs.json') | Should -BeFalse } }
        'Test-VectorMigration #1'       = @{ Check = { param($out) $out.Equal | Should -BeTrue; $out.SourceCount | Should -Be 1000; $out.TargetCount | Should -Be 1000 } }
        'Test-VectorMigration #2'       = @{ PgDocs = $true; Damage = $true; Check = {
                param($out)
                @($out).Count | Should -Be 2
                ($out | Where-Object Kind -EQ 'Missing').Key | Should -Be 'u:5'
                $changed = $out | Where-Object Kind -EQ 'Changed'
                $changed.Key | Should -Be 'u:7'
                $changed.Paths | Should -Be @('payload.title') } }
        'Test-VectorMigration #3'       = @{ PgDocs = $true; Check = { param($out) $out.Equal | Should -BeTrue; $out.Sample | Should -Be 100 } }
        'Test-VectorMigration #4'       = @{ PgDocs = $true; Check = { param($out) $out.Equal | Should -BeTrue; $out.Recall | Should -Be 1; $out.Metric | Should -BeLike 'Cosine:*' } }
        'Write-PgVector #1'             = @{ Check = { param($out, $pg) Invoke-Sql $pg "SELECT count(*) FROM pg_indexes WHERE tablename = 'docs' AND indexdef LIKE '%hnsw%'" | Should -Be 1 } }
        'Write-PgVector #2'             = @{ Check = { param($out, $pg) Invoke-Sql $pg "SELECT count(*) FROM pg_tables WHERE tablename = 'docs'" | Should -Be 0 } }
        'Write-PgVector #3'             = @{ Check = { param($out) $out.RecordsWritten | Should -Be 75 } }
        'Write-PgVector #4'             = @{ Check = { param($out) $out.FullyQualifiedErrorId | Should -BeLike 'PgVectorDimensionMismatch,*'; "$($out.TargetObject.Id)" | Should -Be 'a2' } }
        'Write-PgVector #5'             = @{ Check = { param($out, $pg) Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 1000 } }
        'Write-PineconeVector #1'       = @{ PgDocs = $true; Check = { param($out) $out.RecordsWritten | Should -Be 1000 } }
        'Write-QdrantPoint #1'          = @{ PgDocs = $true }
    }
}

Describe 'Help example <Name>' -ForEach $examples {
    BeforeAll {
        $how = if ($special.ContainsKey($Name)) { $special[$Name] } else { @{} }
        $pg = New-TestDatabase
        $new = New-TestDatabase
        $old = $pg
        $db = ($pg -split ';' | Where-Object { $_ -like 'Database=*' }) -replace '^Database=', ''
        $work = Join-Path ([IO.Path]::GetTempPath()) (New-UniqueName 'vecmigrate-example')
        $dir = Join-Path $work 'state'
        $null = New-Item -ItemType Directory -Path $dir
        # docs.csv: four rows of 3 dims, one of whose year is not a number and whose vector is too short.
        Set-Content (Join-Path $work 'docs.csv') @(
            'id,title,year,embedding'
            'a1,First,2020,"[0.1, 0.2, 0.3]"'
            'a2,Second,nineteen,"[0.5, 0.6]"'
            'a3,Third,2022,"[0.9, 1.0, 1.1]"'
            'a4,Fourth,2023,"[1.2, 1.3, 1.4]"'
        )
        Set-Content (Join-Path $work 'items.jsonl') @(
            '{"id": 1, "embedding": [0.1, 0.2], "title": "one", "year": 2001}'
            '{"id": 2, "embedding": [0.3, 0.4], "title": "two", "year": 2002}'
        )
        Set-Content (Join-Path $work 'ids.txt') 'm001', 'm040'

        if ($how.PgDocs) { Initialize-DocsTable $pg }
        if ($how.PgTenantDocs) { Initialize-TenantDocsTable $pg }
        # A damaged copy: one row gone, one payload field changed.
        if ($how.Damage) { $null = Invoke-Sql $pg "DELETE FROM docs WHERE id = 5; UPDATE docs SET title = 'changed' WHERE id = 7" }
        if ($how.Files) { Copy-Item (Join-Path $templates '*') $work }
        if ($how.DropMilvusDocs) { Remove-MilvusStandInCollection docs }
        if ($how.Checkpoint) {
            # A run interrupted after two committed batches: its checkpoint is not completed.
            try {
                $null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs |
                    ForEach-Object {
                        if ("$($_.Id)" -eq '101') {
                            # Batches commit on the writer's own task: wait for both before the interruption.
                            $deadline = [datetime]::UtcNow.AddSeconds(60)
                            while ((Get-VecMigrateCheckpoint -ConnectionString $pg -Name docs-nightly -ErrorAction SilentlyContinue).Records -lt 100 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
                            throw 'interrupted'
                        }
                        $_
                    } |
                    Write-PgVector -ConnectionString $pg -Table docs -BatchSize 50 -Checkpoint docs-nightly
            }
            catch { if ("$_" -ne 'interrupted') { throw } }
            Invoke-Sql $pg 'SELECT count(*) FROM docs' | Should -Be 100
        }
        if ($how.StateCheckpoint) {
            Initialize-DocsTable $pg
            $null = Copy-VectorData -Source (New-PgVectorSource -ConnectionString $pg -Table docs) `
                -Target (New-QdrantTarget -Url $qurl -ApiKey $qkey -Collection (New-UniqueName 'state') -Distance Dot) -Checkpoint nightly-docs -StateDirectory $dir
        }
        if ($how.DropQdrantDocs) { Remove-StandInCollection docs }

        $code = $Code
        foreach ($url in 'https://qdrant.example.com:6333', 'http://qdrant:6333', 'http://localhost:6333', 'http://old:6333', 'http://new:6333') {
            $code = $code.Replace($url, $qurl)
        }
        foreach ($url in 'http://localhost:19530', 'http://milvus:19530', 'https://in03-xxx.api.gcp-us-west1.zillizcloud.com') {
            $code = $code.Replace($url, $murl)
        }
        $code = $code.Replace('http://localhost:5080', $purl).Replace('localhost:5081', $indexHost['archive8'])
        $code = $code.Replace('movies-abc123.svc.us-east1-gcp.pinecone.io', $indexHost['movies']).Replace('movies-abc123.svc.pinecone.io', $indexHost['movies'])
        $code = $code.Replace('hybrid-abc123.svc.pinecone.io', $indexHost['hybrid'])
        # Pinecone Local takes any key; the stand-in wants its own.
        $code = $code -replace '-ApiKey (pclocal|local)\b', '-ApiKey $pkey'
        foreach ($pgHost in 'Host=pg;', 'Host=pg.internal;', 'Host=db;') { $code = $code.Replace($pgHost, "Host=127.0.0.1;Port=$pgPort;") }
        $code = $code.Replace('Database=vectors', "Database=$db").Replace('Database=app', "Database=$db")
        $code = $code.Replace("`$env:PGHOST = 'pg.internal'", "`$env:PGHOST = '127.0.0.1'").Replace("`$env:PGDATABASE = 'vectors'", "`$env:PGDATABASE = '$db'")
        # The test Postgres has no TLS.
        $code = $code.Replace('SSL Mode=Require', 'SSL Mode=Prefer')
        $code = $code.Replace('D:\vecmigrate', $dir)
        # Runspaces of ForEach-Object -Parallel import the module by name, as where it is installed; here, from the checkout.
        $code = $code.Replace('Import-Module VecMigrate', "Import-Module '$(Join-Path $RepoRoot 'VecMigrate.psd1')'")
    }

    AfterAll {
        Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
        if ($code -match 'Write-QdrantPoint|New-QdrantTarget' -or $how.DropQdrantDocs) { Reset-StandInDocs }
        if ($code -match '(Write-QdrantPoint|New-QdrantTarget) -Collection movies') { Remove-StandInCollection movies }
        if ($code -match 'Write-MilvusEntity|New-MilvusTarget' -or $how.DropMilvusDocs) { Reset-MilvusStandInDocs }
    }

    It 'runs as written' {
        $saved = @{}
        foreach ($name in 'PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'QDRANT_API_KEY', 'PINECONE_API_KEY', 'ZILLIZ_API_KEY', 'MILVUS_TOKEN', 'VECMIGRATE_STATE_DIR') {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        }
        $savedDefaults = $PSDefaultParameterValues.Clone()
        Push-Location $work
        try {
            $env:PGHOST = '127.0.0.1'; $env:PGPORT = "$pgPort"; $env:PGDATABASE = $db; $env:PGUSER = 'postgres'
            $env:QDRANT_API_KEY = $qkey; $env:PINECONE_API_KEY = $pkey; $env:ZILLIZ_API_KEY = $mkey; $env:MILVUS_TOKEN = $mkey; $env:VECMIGRATE_STATE_DIR = $dir
            $PSDefaultParameterValues['*-Qdrant*:Url'] = $qurl
            $PSDefaultParameterValues['*-Pinecone*:Url'] = $purl
            $PSDefaultParameterValues['*-Milvus*:Url'] = $murl
            $cred = Get-AutomationPSCredential pg
            $key = Get-Secret QdrantKey
            $from = New-QdrantSource -Collection docs
            $to = New-PgVectorTarget -ConnectionString $pg -Table docs
            if ($how.Digests) {
                $a = Get-QdrantPoint -Collection docs | Measure-VectorDigest
                $b = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
            }

            # As in a user's session (Pester itself stops at the first error).
            $ErrorActionPreference = 'Continue'
            $example = [scriptblock]::Create($code)
            $all = @(& $example 2>&1)
            $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $(if ($null -eq $saved[$name]) { [NullString]::Value } else { $saved[$name] })) }
            $PSDefaultParameterValues.Clear()
            foreach ($k in $savedDefaults.Keys) { $PSDefaultParameterValues[$k] = $savedDefaults[$k] }
        }

        $expected = @($how.Errors | Where-Object { $_ })
        @($errors | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) | Should -Be $expected -Because (($errors | ForEach-Object { "$_" }) -join "`n")
        if ($how.Check) { & $how.Check $(if ($out.Count -eq 1) { $out[0] } else { $out }) $pg $new $dir }
        # Nothing was written into the checkout by a relative path (./state) meant for the working folder.
        Test-Path (Join-Path $RepoRoot 'state') | Should -BeFalse
    }
}

AfterAll {
    Remove-Item $templates -Recurse -Force -ErrorAction SilentlyContinue
}
