using System.Diagnostics;
using System.Globalization;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Tests.Files;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using Xunit.Abstractions;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// An export from Qdrant into a file, run as its own process (tests/VecMigrate.KillTest --file), killed with SIGKILL
/// at random moments and run again until it completes: the file is byte for byte what one uninterrupted export writes.
/// </summary>
public sealed class FileKillTests(ITestOutputHelper output) : IDisposable
{
    private const int Points = 20_000;
    private const int BatchSize = 500;
    private const int Kills = 5;
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("docs.parquet")]
    [InlineData("docs.jsonl.gz")]
    public async Task An_export_killed_at_random_moments_and_resumed_writes_the_same_bytes_as_one_that_never_stopped(string name)
    {
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        await using var qdrant = await QdrantStandIn.StartAsync();
        var records = ResumeKit.SeedCollection(qdrant, "kill", Points, 32, seed, integerShare: 0.5);

        var whole = Path.Combine(_dir, "whole-" + name);
        using (var transport = new Engine.Http.RestTransport())
        using (var client = new QdrantClient(qdrant.BaseAddress, null, transport))
        await using (var sink = new FileSink(new FileSinkOptions(whole) { BatchSize = BatchSize }))
        {
            await Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions("kill") { PageSize = 500 }), sink);
        }

        qdrant.Faults.Delay = TimeSpan.FromMilliseconds(20); // pages take a while, so a run lasts long enough to be killed
        var path = Path.Combine(_dir, name);
        var kills = 0;
        for (var run = 1; ; run++)
        {
            Assert.True(run <= Kills + 3, "the export did not finish");
            var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { KillProgram(), "--qdrant", qdrant.BaseAddress.ToString(), "--collection", "kill", "--file", path, "--checkpoint", "export",
                "--batch", BatchSize.ToString(CultureInfo.InvariantCulture) })
            {
                psi.ArgumentList.Add(a);
            }
            using var child = Process.Start(psi)!;
            var errors = child.StandardError.ReadToEndAsync();
            var acks = 0;
            var killAfter = kills < Kills ? random.Next(1, 6) : int.MaxValue; // at most 25 of the 40 batches in all
            string? line;
            var killed = false;
            while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
            {
                if (line.StartsWith("ack ", StringComparison.Ordinal) && ++acks == killAfter)
                {
                    await Task.Delay(random.Next(0, 60)); // mid-read, mid-write or mid-checkpoint
                    child.Kill(entireProcessTree: true);
                    killed = true;
                    break;
                }
            }
            await child.WaitForExitAsync();
            if (killed && !File.Exists(path))
            {
                kills++;
                output.WriteLine($"run {run}: killed after {acks} batch(es)");
                continue;
            }
            Assert.True(child.ExitCode == 0 || killed, $"run {run} failed ({child.ExitCode}): {await errors}");
            output.WriteLine($"run {run}: completed");
            break;
        }
        Assert.True(kills >= 3, $"only {kills} kills");
        Assert.Equal(await File.ReadAllBytesAsync(whole), await File.ReadAllBytesAsync(path));
        RecordAssert.SameSet(records, await FileTestKit.ReadAsync(path));
        Assert.Empty(Directory.GetFiles(_dir, "*.partial"));
    }

    /// <summary>tests/VecMigrate.KillTest/bin/CONFIG/TFM/VecMigrate.KillTest.dll, beside this assembly's own output.</summary>
    private static string KillProgram()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(here.Parent!.Parent!.Parent!.Parent!.FullName, "VecMigrate.KillTest", "bin", here.Parent.Name, here.Name, "VecMigrate.KillTest.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build tests/VecMigrate.KillTest first: {path} is missing.", path);
    }
}
