# Test-VectorMigration as a PowerShell user meets it: a copy piped into it, search parity in the formatted result,
# and a damaged copy stopping a script with -ErrorAction Stop.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $h = Start-VecMigrateStandIn
    $qurl = $h.qdrantUrl; $qkey = $h.qdrantKey
    function New-DocsCopy {
        $pg = New-TestDatabase
        $summary = Copy-VectorData -Source (New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs) -Target (New-PgVectorTarget -ConnectionString $pg -Table docs)
        $summary.Completed | Should -BeTrue
        [pscustomobject]@{ Pg = $pg; Summary = $summary }
    }
}

Describe 'Test-VectorMigration with search parity' {
    It 'a copy piped in has recall 1 at K, and the list view says so' {
        $copy = New-DocsCopy
        $r = $copy.Summary | Test-VectorMigration -SearchQueries 50 -TopK 5
        $r.Equal | Should -BeTrue
        $r.Search.Queries | Should -Be 50
        $r.Search.TopK | Should -Be 5
        $r.Search.Recall | Should -Be 1
        $r.Search.MinRecall | Should -Be 1
        $r.Search.MaxScoreDifference | Should -BeLessThan 1e-5
        $text = $r | Out-String
        $text | Should -Match 'Search\s+: recall@5 1 \(worst query 1\) over 50 queries; Cosine: cosine similarity'
        $text | Should -Match 'Qdrant query API, exact / pgvector <=> exact'
    }

    It 'damaged vectors lower the recall; -MinRecall with -ErrorAction Stop ends the script on it' {
        $copy = New-DocsCopy
        # Half the rows get their vector reversed: the same values in another order.
        Invoke-Sql $copy.Pg "UPDATE docs SET embedding = (SELECT array_agg(x ORDER BY o DESC) FROM unnest(embedding::real[]) WITH ORDINALITY AS u(x, o))::vector WHERE id % 2 = 0" | Out-Null
        $source = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs
        $table = New-PgVectorSource -ConnectionString $copy.Pg -Table docs

        $r = Test-VectorMigration $source $table -SearchQueries 40 -ErrorAction SilentlyContinue -ErrorVariable problems
        $r.Equal | Should -BeFalse
        # 500 changed records touch far more than the 64 buckets examined one by one: the count is estimated from those.
        $r.Changed | Should -BeGreaterThan 400
        $r.Changed | Should -BeLessThan 600
        $r.Method | Should -Match 'counts estimated'
        $r.Search.Recall | Should -BeLessThan 0.9
        $problems.FullyQualifiedErrorId | Should -Be @('VectorMigrationNotEqual,VecMigrate.Commands.TestVectorMigrationCommand')

        { Test-VectorMigration $source $table -SearchQueries 40 -MinRecall 0.99 -ErrorAction Stop } |
            Should -Throw -ErrorId 'VectorSearchRecallLow,VecMigrate.Commands.TestVectorMigrationCommand'
    }

    It 'a side that cannot search is refused before anything is read' {
        $source = New-QdrantSource -Url $qurl -ApiKey $qkey -Collection docs -Filter @{ must = @(@{ key = 'city'; match = @{ value = 'Oslo' } }) }
        $table = New-PgVectorSource -ConnectionString (New-TestDatabase) -Table nothing_here
        { Test-VectorMigration $source $table -SearchQueries 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'SearchParityUnsupported,VecMigrate.Commands.TestVectorMigrationCommand'
    }
}
