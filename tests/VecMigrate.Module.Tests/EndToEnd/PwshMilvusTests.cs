using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>The Milvus cmdlets in a real pwsh, against real Postgres and the Milvus stand-in. Skipped where there is no pwsh.</summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class PwshMilvusTests(ModuleServices services)
{
    private const string SeedDocs = "$null = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Write-PgVector -ConnectionString $pg -Table docs\n";

    private static string Prelude(MilvusStandIn m, string state) =>
        $"$murl = '{m.Url}'\n$mcred = [pscredential]::new('root', (ConvertTo-SecureString 'Milvus' -AsPlainText -Force))\n$state = '{state}'\n";

    [PwshFact]
    public async Task Postgres_piped_into_Write_MilvusEntity_and_Get_MilvusEntity_piped_into_Write_PgVector_arrive_exactly()
    {
        var cs = await services.NewDatabaseAsync();
        await using var m = await MilvusStandIn.StartAsync();
        var state = Directory.CreateTempSubdirectory("vm-pwsh-milvus").FullName;
        var run = services.Run(Prelude(m, state) + SeedDocs + """
            $s = Get-PgVector -ConnectionString $pg -Table docs | Write-MilvusEntity -Url $murl -Credential $mcred -Collection docs -BatchSize 300
            "SUMMARY.TYPE=$($s.GetType().Name)"; "SUMMARY.COLLECTION=$($s.Collection)"; "SUMMARY.WRITTEN=$($s.RecordsWritten)"; "SUMMARY.REJECTED=$($s.RecordsRejected)"; "SUMMARY.BATCHES=$($s.Batches)"
            $c = Get-MilvusCollection -Url $murl -Credential $mcred -Name do*
            "COLL.NAME=$($c.Name)"; "COLL.ROWS=$($c.RowCount)"; "COLL.STATE=$($c.LoadState)"
            $null = Get-MilvusEntity -Url $murl -Credential $mcred -Collection docs -PageSize 128 | Write-PgVector -ConnectionString $pg -Table back
            $a = Get-PgVector -ConnectionString $pg -Table docs | Measure-VectorDigest
            $b = Get-PgVector -ConnectionString $pg -Table back | Measure-VectorDigest
            "EQUAL=$((Compare-VectorDigest $a $b).Equal)"; "EQUAL.COUNT=$($b.Count)"
            $r = Copy-VectorData (New-PgVectorSource -ConnectionString $pg -Table docs) (New-MilvusTarget -Url $murl -Credential $mcred -Collection copied -BatchSize 250) -Checkpoint to-milvus -Resume -StateDirectory $state
            "COPY.COMPLETED=$($r.Completed)"; "COPY.WRITTEN=$($r.RecordsWritten)"
            $t = New-MilvusSource -Url $murl -ApiKey 'root:Milvus' -Collection copied
            "SPEC.SYSTEM=$($t.System)"; "SPEC.TEXTCLEAN=$("$t" -notmatch 'Milvus:')"; "SPEC.VIEWCLEAN=$(($t | Out-String) -notmatch 'root:Milvus')"
            try { Get-MilvusEntity -Url $murl -ApiKey 'root:wrong' -Collection docs -ErrorAction Stop } catch { "DENIED=$($_.FullyQualifiedErrorId.Split(',')[0])"; "DENIED.CLEAN=$($_.ToString() -notmatch 'wrong')" }
            """, cs).Completed();

        Assert.Equal(("MilvusWriteSummary", "docs", "1000", "0", "4"),
            (run["SUMMARY.TYPE"], run["SUMMARY.COLLECTION"], run["SUMMARY.WRITTEN"], run["SUMMARY.REJECTED"], run["SUMMARY.BATCHES"]));
        Assert.Equal(("docs", "1000", "LoadStateLoaded"), (run["COLL.NAME"], run["COLL.ROWS"], run["COLL.STATE"]));
        Assert.Equal(("True", "1000"), (run["EQUAL"], run["EQUAL.COUNT"]));
        Assert.Equal(("True", "1000"), (run["COPY.COMPLETED"], run["COPY.WRITTEN"]));
        Assert.Equal(("Milvus", "True", "True"), (run["SPEC.SYSTEM"], run["SPEC.TEXTCLEAN"], run["SPEC.VIEWCLEAN"])); // no token in its text or view
        Assert.Equal(("MilvusUnauthorized", "True"), (run["DENIED"], run["DENIED.CLEAN"]));
        RecordAssert.SameSet(services.Docs, await ModuleServices.ReadBackAsync(cs, "back"));
        Assert.Equal(1000, m.Collections["copied"].Rows.Count);
    }
}
