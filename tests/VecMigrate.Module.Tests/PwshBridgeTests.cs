using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>
/// VecMigrateCmdlet inside a real pwsh, driven by the fixture cmdlets of
/// tests/VecMigrate.Module.PwshFixture: the half of the base that needs PowerShell's own types.
/// </summary>
public class PwshBridgeTests
{
    private static readonly string Fixture = typeof(PwshBridgeTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "PwshFixturePath").Value!;

    private static Dictionary<string, string> Run(string body)
    {
        var script = $"$ErrorActionPreference = 'Stop'\nImport-Module '{Fixture.Replace("'", "''")}'\n$fixture = [VecMigrate.Module.PwshFixture.TestVmBridgeCommand]\n{body}";
        var (exitCode, output, error) = Pwsh.Run(script, TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"pwsh exited with {exitCode}: {error}\n{output}");
        return output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
    }

    [PwshFact]
    public void Output_is_bounded_and_a_downstream_stop_cancels_the_source()
    {
        var r = Run("""
            "COUNT=$((Test-VmBridge -Count 500 | Measure-Object).Count)"
            "AHEAD=$((Test-VmBridge -Count 400 | ForEach-Object { Start-Sleep -Milliseconds 1; $fixture::Produced - $_.Index } | Measure-Object -Maximum).Maximum)"
            $watch = [Diagnostics.Stopwatch]::StartNew()
            "FIRST=$((Test-VmBridge -Count 100000000 | Select-Object -First 3).Index -join ',')"
            "FAST=$($watch.Elapsed.TotalSeconds -lt 10)"
            "CANCELLED=$($fixture::LastRunCancelled)"
            """);

        Assert.Equal("500", r["COUNT"]);
        Assert.InRange(int.Parse(r["AHEAD"]), 2, 66); // capacity 64, plus the item in hand and the one being made
        Assert.Equal("0,1,2", r["FIRST"]);
        Assert.Equal("True", r["FAST"]);
        Assert.Equal("True", r["CANCELLED"]);
    }

    [PwshFact]
    public void An_engine_failure_ends_the_command_after_its_output_with_id_category_target_and_no_secret()
    {
        var r = Run("""
            $env:QDRANT_API_KEY = 'qd-secret-12345'
            $out = [System.Collections.Generic.List[object]]::new()
            try { Test-VmBridge -Count 10 -FailAfter 4 | ForEach-Object { $out.Add($_) } } catch { $err = $_ }
            "ITEMS=$($out.Count)"
            "ID=$($err.FullyQualifiedErrorId)"
            "CATEGORY=$($err.CategoryInfo.Category)"
            "TARGET=$($err.TargetObject)"
            "TYPE=$($err.Exception.GetType().FullName)"
            "LEAK=$("$err $($err.Exception) $($err.ErrorDetails)" -match 'qd-secret-12345')"
            """);

        Assert.Equal("4", r["ITEMS"]);
        Assert.Equal("QdrantCollectionNotFound,VecMigrate.Module.PwshFixture.TestVmBridgeCommand", r["ID"]);
        Assert.Equal("ObjectNotFound", r["CATEGORY"]);
        Assert.Equal("docs", r["TARGET"]);
        Assert.Equal("VecMigrate.Engine.VecMigrateException", r["TYPE"]);
        Assert.Equal("False", r["LEAK"]);
    }

    [PwshFact]
    public void A_rejected_record_is_a_non_terminating_error_unless_ErrorAction_Stop()
    {
        var r = Run("""
            $items = Test-VmBridge -Count 5 -RejectAt 2 -ErrorVariable rejected -ErrorAction SilentlyContinue
            "ITEMS=$($items.Index -join ',')"
            "ID=$($rejected[0].FullyQualifiedErrorId)"
            "CATEGORY=$($rejected[0].CategoryInfo.Category)"
            "TARGET=$($rejected[0].TargetObject.GetType().Name):$($rejected[0].TargetObject)"
            try { Test-VmBridge -Count 100000000 -RejectAt 2 -ErrorAction Stop | Out-Null; "STOPPED=no" } catch { "STOPPED=$($_.FullyQualifiedErrorId)" }
            "CANCELLED=$($fixture::LastRunCancelled)"
            """);

        Assert.Equal("0,1,3,4", r["ITEMS"]);
        Assert.Equal("PgVectorRecordInvalid,VecMigrate.Module.PwshFixture.TestVmBridgeCommand", r["ID"]);
        Assert.Equal("InvalidData", r["CATEGORY"]);
        Assert.Equal("VectorRecord:2", r["TARGET"]);
        Assert.StartsWith("PgVectorRecordInvalid", r["STOPPED"]);
        Assert.Equal("True", r["CANCELLED"]);
    }

    [PwshFact]
    public void Engine_logs_follow_Verbose_and_Debug_and_Await_returns_the_result()
    {
        var r = Run("""
            "VERBOSE=$((Test-VmBridge -Count 3 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join '|')"
            "QUIET=$((Test-VmBridge -Count 3 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Measure-Object).Count)"
            $awaited = Test-VmAwait -Debug 5>&1
            "DEBUG=$($awaited | Where-Object { $_ -is [System.Management.Automation.DebugRecord] })"
            "RESULT=$($awaited | Where-Object { $_ -is [int] })"
            """);

        Assert.Equal("Source: produced 0|Source: produced 1|Source: produced 2", r["VERBOSE"]);
        Assert.Equal("0", r["QUIET"]);
        Assert.Equal("Await: thinking", r["DEBUG"]);
        Assert.Equal("42", r["RESULT"]);
    }

    [PwshFact]
    public void ApiKey_takes_text_or_a_credential_and_names_complete_quoted()
    {
        var r = Run("""
            "TEXT=$(Test-VmBridge -Count 0 -ApiKey 'plain-text-key')"
            "CREDENTIAL=$(Test-VmBridge -Count 0 -ApiKey ([pscredential]::new('x', (ConvertTo-SecureString 'cred-key-99' -AsPlainText -Force))))"
            "COMPLETIONS=$((TabExpansion2 -inputScript 'Test-VmBridge -Name do' -cursorColumn 22).CompletionMatches.CompletionText -join '|')"
            """);

        Assert.Equal("key length 14", r["TEXT"]);
        Assert.Equal("key length 11", r["CREDENTIAL"]);
        Assert.Equal("docs|'docs archive'", r["COMPLETIONS"]);
    }
}
