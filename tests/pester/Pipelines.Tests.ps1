# Records piped between every pair of systems the module has (Qdrant, Pinecone, Postgres), and copied with
# Copy-VectorData, arrive exactly: the same ids, the same vectors bit for bit (float32 round-trip text), the same
# payloads where both sides keep them as JSON.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $qurl = $h.qdrantUrl; $qkey = $h.qdrantKey; $purl = $h.pineconeUrl; $pkey = $h.pineconeKey

    # One line per record: namespace/id, then each vector as float32 text; sorted, so that order does not matter.
    function Get-RecordLine([Parameter(ValueFromPipeline)] $Record, [switch] $Payload) {
        process {
            $vectors = foreach ($name in ($Record.Vectors.Keys | Sort-Object)) {
                "${name}=" + (($Record.Vectors[$name].Values | ForEach-Object { ([float]$_).ToString('R', [cultureinfo]::InvariantCulture) }) -join ',')
            }
            $line = "$($Record.Namespace)/$($Record.Id) $($vectors -join ' ')"
            if ($Payload) { $line += ' ' + ($Record.Payload.ToString() | ConvertFrom-Json -AsHashtable | ConvertTo-Json -Compress -Depth 5) }
            $line
        }
    }
    function Get-QdrantDocs { Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs }
    $docs = Get-QdrantDocs | Get-RecordLine | Sort-Object
    $movies = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Get-RecordLine | Sort-Object
}

Describe 'Qdrant into' {
    It 'compares what it should (the source lines hold ids and every vector component)' {
        $docs.Count | Should -Be 1000
        $docs[0] | Should -Match '^/1 =(-?[0-9.E-]+,){7}-?[0-9.E-]+$'
        $movies.Count | Should -Be 75
    }

    It 'Postgres: piped, every point with its payload, and the digests of both sides equal' {
        $pg = New-TestDatabase
        $s = Get-QdrantDocs | Write-PgVector -ConnectionString $pg -Table docs -BatchSize 300
        $s.RecordsWritten | Should -Be 1000
        $s.BatchesCommitted | Should -Be 4
        Get-PgVector -ConnectionString $pg -Table docs | Get-RecordLine | Sort-Object | Should -Be $docs
        $a = Get-QdrantDocs | Measure-VectorDigest
        $b = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
        (Compare-VectorDigest $a $b).Equal | Should -BeTrue
    }

    It 'Postgres over gRPC, copied with Copy-VectorData' {
        $pg = New-TestDatabase
        $m = Copy-VectorData -Source (New-QdrantSource -Url $qurl -GrpcUrl $h.qdrantGrpcUrl -ApiKey $qkey -Collection docs) -Target (New-PgVectorTarget -ConnectionString $pg -Table docs)
        $m.Completed | Should -BeTrue
        Get-PgVector -ConnectionString $pg -Table docs | Get-RecordLine | Sort-Object | Should -Be $docs
    }

    It 'Qdrant (another collection, Dot: vectors kept as they are)' {
        $name = New-UniqueName 'qq'
        $s = Get-QdrantDocs | Write-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $name -Distance Dot
        $s.RecordsWritten | Should -Be 1000
        Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $name | Get-RecordLine -Payload | Sort-Object |
            Should -Be (Get-QdrantDocs | Get-RecordLine -Payload | Sort-Object)
    }

    It 'Pinecone: ids as text, vectors exact' {
        $index = New-UniqueName 'qp'
        New-TestPineconeIndex $index 8 dotproduct
        $s = Get-QdrantDocs | Write-PineconeVector -Url $purl -ApiKey $pkey -IndexName $index
        $s.RecordsWritten | Should -Be 1000
        Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName $index | Get-RecordLine | Sort-Object | Should -Be $docs
    }
}

Describe 'Pinecone into' {
    It 'Postgres: every namespace kept' {
        $pg = New-TestDatabase
        $s = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies -PageSize 7 | Write-PgVector -ConnectionString $pg -Table movies
        $s.RecordsWritten | Should -Be 75
        Get-PgVector -ConnectionString $pg -Table movies | Get-RecordLine | Sort-Object | Should -Be $movies
    }

    It 'Qdrant: UUIDs with the original id and namespace, equal to the source by the digests' {
        $name = New-UniqueName 'pq'
        $s = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Write-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $name
        $s.RecordsWritten | Should -Be 75
        $ignore = 'original_id', 'namespace'
        $a = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName movies | Measure-VectorDigest -NormalizeDense -QdrantId -IgnorePayloadField $ignore
        $b = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $name | Measure-VectorDigest -IgnorePayloadField $ignore
        (Compare-VectorDigest $a $b).Equal | Should -BeTrue
        $b.Count | Should -Be 75
    }

    It 'Pinecone (another index), copied with Copy-VectorData' {
        $index = New-UniqueName 'pp'
        New-TestPineconeIndex $index 4 cosine
        $dir = Join-Path ([IO.Path]::GetTempPath()) (New-UniqueName 'state')
        try {
            $m = Copy-VectorData -Source (New-PineconeSource -Url $purl -ApiKey $pkey -IndexName movies) -Target (New-PineconeTarget -Url $purl -ApiKey $pkey -IndexName $index) -Checkpoint pp -StateDirectory $dir
            $m.Completed | Should -BeTrue
        }
        finally { Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue }
        Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName $index | Get-RecordLine | Sort-Object | Should -Be $movies
    }
}

Describe 'Postgres into' {
    BeforeAll {
        $source = New-TestDatabase
        $null = Get-QdrantDocs | Write-PgVector -ConnectionString $source -Table docs
    }

    It 'Postgres (another database), with the payload' {
        $pg = New-TestDatabase
        $s = Get-PgVector -ConnectionString $source -Table docs | Write-PgVector -ConnectionString $pg -Table docs
        $s.RecordsWritten | Should -Be 1000
        Get-PgVector -ConnectionString $pg -Table docs | Get-RecordLine -Payload | Sort-Object |
            Should -Be (Get-PgVector -ConnectionString $source -Table docs | Get-RecordLine -Payload | Sort-Object)
    }

    It 'Qdrant, copied with Copy-VectorData' {
        $name = New-UniqueName 'gq'
        $dir = Join-Path ([IO.Path]::GetTempPath()) (New-UniqueName 'state')
        try {
            $m = Copy-VectorData -Source (New-PgVectorSource -ConnectionString $source -Table docs) -Target (New-QdrantTarget -Url $qurl -ApiKey $qkey -Collection $name -Distance Dot) -Checkpoint gq -StateDirectory $dir
            $m.TotalRecords | Should -Be 1000
        }
        finally { Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue }
        Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection $name | Get-RecordLine | Sort-Object | Should -Be $docs
    }

    It 'Pinecone, into the namespace given' {
        $index = New-UniqueName 'gp'
        New-TestPineconeIndex $index 8 dotproduct
        $s = Get-PgVector -ConnectionString $source -Table docs | Write-PineconeVector -Url $purl -ApiKey $pkey -IndexName $index -Namespace prod -BatchSize 250
        $s.BatchesCommitted | Should -Be 4
        $back = Get-PineconeVector -Url $purl -ApiKey $pkey -IndexName $index -Namespace prod
        $back | Get-RecordLine | Sort-Object | Should -Be ($docs -replace '^/', 'prod/')
    }
}
