using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VecMigrate.Engine.Files;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Files;

/// <summary>Runs only where npm and node are on PATH (CI has Node 20); says why it skipped elsewhere.</summary>
public sealed class NpmFactAttribute : FactAttribute
{
    public NpmFactAttribute()
    {
        if (IndependentParquetReaderTests.Find("npm") is null || IndependentParquetReaderTests.Find("node") is null)
        {
            Skip = "npm and node are needed to install and run hyparquet, the independent Parquet reader; neither is on PATH here.";
        }
    }
}

/// <summary>
/// A Parquet file the module wrote, read by hyparquet (npm, pure JavaScript; not written by this project and sharing
/// no code with Parquet.Net): the same rows, ids, namespaces, payload text and float32 values bit for bit, and the
/// layout in the key-value metadata.
/// </summary>
public sealed class IndependentParquetReaderTests : IDisposable
{
    private readonly string _dir = FileTestKit.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string? Find(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static async Task<string> RunAsync(string program, string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(Find(program)!, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{program} {arguments} failed ({process.ExitCode}): {await error}");
        return await output;
    }

    [NpmFact]
    public async Task Hyparquet_reads_the_same_rows_ids_payloads_and_float32_values_the_module_wrote()
    {
        var reader = Path.Combine(_dir, "reader");
        Directory.CreateDirectory(reader);
        var source = Directory.Exists(Path.Combine(AppContext.BaseDirectory, "Files", "hyparquet"))
            ? Path.Combine(AppContext.BaseDirectory, "Files", "hyparquet") : Path.Combine(AppContext.BaseDirectory, "hyparquet");
        foreach (var f in new[] { "package.json", "read.mjs" }) File.Copy(Path.Combine(source, f), Path.Combine(reader, f));
        await RunAsync("npm", "install --no-audit --no-fund --loglevel=error", reader);

        var path = Path.Combine(_dir, "records.parquet");
        var records = FileTestKit.Records(700);
        await FileTestKit.WriteAsync(path, records, batchSize: 200);
        using var doc = JsonDocument.Parse(await RunAsync("node", $"read.mjs \"{path}\"", reader));
        var root = doc.RootElement;

        Assert.Equal(4, root.GetProperty("rowGroups").GetInt32());
        var layout = FileLayout.Parse(root.GetProperty("metadata").GetProperty(FileLayout.MetadataKey).GetString()!);
        Assert.Equal(FileTestKit.Schema.Vectors, layout.Vectors.Select(v => v.Field));
        var rows = root.GetProperty("rows");
        Assert.Equal(records.Count, rows.GetArrayLength());
        var i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var r = records[i++];
            var where = $"row {i - 1}";
            Assert.True(r.Id.ToString() == row.GetProperty("id").GetString(), where);
            Assert.True(FileLayout.KindName(r.Id.Kind) == row.GetProperty("id_kind").GetString(), where);
            Assert.True(r.Namespace == row.GetProperty("namespace").GetString(), where); // null stays null, "" stays ""
            Assert.True(r.Payload?.ToString() == row.GetProperty("payload").GetString(), where);
            foreach (var v in layout.Vectors)
            {
                r.Vectors.TryGetValue(v.Field.Name, out var value);
                var column = row.GetProperty(v.Column);
                switch (value)
                {
                    case null:
                        Assert.True(column.ValueKind == JsonValueKind.Null, $"{where} {v.Column}");
                        if (v.ValuesColumn is not null) Assert.True(row.GetProperty(v.ValuesColumn).ValueKind == JsonValueKind.Null, where);
                        break;
                    case DenseVector d:
                        SameFloats(d.Values, column, $"{where} {v.Column}");
                        break;
                    case SparseVector s:
                        Assert.Equal(s.Indices, column.EnumerateArray().Select(x => x.GetUInt32()));
                        SameFloats(s.Values, row.GetProperty(v.ValuesColumn!), $"{where} {v.ValuesColumn}");
                        break;
                    case MultiVector m:
                        Assert.True(m.Vectors.Length == column.GetArrayLength(), $"{where} {v.Column}");
                        var k = 0;
                        foreach (var inner in column.EnumerateArray()) SameFloats(m.Vectors[k++], inner, $"{where} {v.Column}[{k - 1}]");
                        break;
                }
            }
        }
    }

    // JavaScript holds a float32 as the double of the same value, so narrowing it gives the same bits back.
    private static void SameFloats(float[] expected, JsonElement actual, string where)
    {
        Assert.True(expected.Length == actual.GetArrayLength(), $"{where}: length");
        var k = 0;
        foreach (var x in actual.EnumerateArray())
        {
            var got = x.ValueKind == JsonValueKind.String ? float.Parse(x.GetString()!, CultureInfo.InvariantCulture) : (float)x.GetDouble();
            Assert.True(BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(got),
                $"{where}[{k}]: {got.ToString("R", CultureInfo.InvariantCulture)}, expected {expected[k].ToString("R", CultureInfo.InvariantCulture)}");
            k++;
        }
    }
}
