using VecMigrate.Module.Tests.Support;
using VecMigrate.Testing;

namespace VecMigrate.Module.Tests.EndToEnd;

/// <summary>
/// Files in a real pwsh: Get-QdrantPoint | Export-VectorRecord, Get-VectorFileInfo, Import-VectorRecord | Write-PgVector,
/// and Copy-VectorData between New-FileSource and New-FileTarget with a checkpoint. Skipped, with the reason, where
/// there is no pwsh.
/// </summary>
[Collection(ModuleServicesCollection.Name)]
public sealed class PwshFileTests(ModuleServices services)
{
    [PwshFact]
    public async Task Qdrant_points_exported_to_parquet_and_imported_into_Postgres_arrive_exactly()
    {
        var cs = await services.NewDatabaseAsync();
        var dir = Path.Combine(Path.GetTempPath(), $"vecmigrate-files-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        PwshRun run;
        try
        {
            run = services.Run($$"""
                Set-Location '{{dir}}'
                $info = Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Export-VectorRecord -Path docs.parquet
                "EXPORT.TYPE=$($info.GetType().Name)"; "EXPORT.FORMAT=$($info.Format)"; "EXPORT.RECORDS=$($info.Records)"; "EXPORT.PATH=$($info.Path -eq (Join-Path '{{dir}}' 'docs.parquet'))"
                Get-VectorFileInfo docs.parquet | Out-String
                $again = Get-ChildItem docs.parquet | Get-VectorFileInfo
                "INFO=$($again.Records) $($again.Source) $($again.SourceName) $($again.IdKinds -join ',') $($again.VectorSpaces)"
                try { Get-QdrantPoint -Url $qurl -ApiKey $qkey -Collection docs | Export-VectorRecord -Path docs.parquet -ErrorAction Stop }
                catch { "EXISTS=$($_.FullyQualifiedErrorId.Split(',')[0]) $($_.CategoryInfo.Category)" }
                $written = Import-VectorRecord -Path docs.parquet | Write-PgVector -ConnectionString $pg -Table docs_from_file
                "IMPORT=$($written.RecordsWritten)"
                $a = Copy-VectorData (New-FileSource docs.parquet) (New-FileTarget docs.jsonl.gz) -Checkpoint to-jsonl -Resume
                $b = Copy-VectorData (New-FileSource docs.parquet) (New-FileTarget docs.jsonl.gz) -Checkpoint to-jsonl -Resume
                "COPY.WRITTEN=$($a.RecordsWritten)"; "COPY.COMPLETED=$($a.Completed)"; "COPY.ALREADY=$($b.AlreadyComplete)"; "COPY.IMPORTED=$((Import-VectorRecord docs.jsonl.gz | Measure-Object).Count)"
                Set-Content cut.jsonl.gz -AsByteStream -Value ([IO.File]::ReadAllBytes((Join-Path '{{dir}}' 'docs.jsonl.gz')) | Select-Object -First 3000)
                try { Import-VectorRecord cut.jsonl.gz -ErrorAction Stop | Out-Null } catch { "CUT=$($_.FullyQualifiedErrorId.Split(',')[0]) $($_.TargetObject -like '*cut.jsonl.gz')" }
                """, cs);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        run.Completed();
        Assert.Equal(("VectorFileInfo", "Parquet", "1000", "True"), (run["EXPORT.TYPE"], run["EXPORT.FORMAT"], run["EXPORT.RECORDS"], run["EXPORT.PATH"]));
        Assert.StartsWith("1000 Qdrant docs u64", run["INFO"]);
        Assert.Equal("FileTargetExists InvalidArgument", run["EXISTS"]);
        Assert.Equal("1000", run["IMPORT"]);
        Assert.Equal(("1000", "True", "True", "1000"), (run["COPY.WRITTEN"], run["COPY.COMPLETED"], run["COPY.ALREADY"], run["COPY.IMPORTED"]));
        Assert.Equal("FileTruncated True", run["CUT"]);
        Assert.Contains("VectorSpaces", run.Output); // the file info's view printed
        RecordAssert.SameSet(services.Docs, await ModuleServices.ReadBackAsync(cs, "docs_from_file"));
    }
}
