using System.Globalization;
using System.Text.Json;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Files;

/// <summary>
/// The checkpoint of a resumable export, kept beside its partial file (<c>.docs.parquet.nightly.checkpoint.json</c>
/// next to <c>.docs.parquet.nightly.partial</c>): the usual checkpoint fields, plus how many bytes of the partial file
/// the checkpoint covers, the file's layout, and (Parquet) the footer those bytes end with. The sink saves it after each batch is on disk, so data and checkpoint
/// agree; a resume cuts the partial file back to those bytes (a complete Parquet file, or whole JSONL lines and gzip
/// members) and appends. It stays after the export completes, marked complete, so that running the same export with
/// -Resume again finds nothing to do; delete it (or the file) to export again.
/// </summary>
internal sealed class FileExportState : ICheckpointStore
{
    private const int Version = 1;

    public FileExportState(string path)
    {
        StatePath = path;
    }

    /// <summary>The state file.</summary>
    public string StatePath { get; }

    public string Location => StatePath;

    /// <summary>Bytes of the partial file the saved checkpoint covers.</summary>
    public long Bytes { get; set; }

    /// <summary>The layout's JSON (null before the first batch).</summary>
    public string? Layout { get; set; }

    /// <summary>
    /// A Parquet partial file's footer as of the checkpoint (footer, its length, the magic): the next batch is written
    /// over it (Parquet.Net appends before the footer), so a resume puts it back. Null for JSONL.
    /// </summary>
    public byte[]? Tail { get; set; }

    public async Task<MigrationCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(StatePath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var r = doc.RootElement;
            if (r.GetProperty("version").GetInt32() != Version) throw new FormatException("unknown version");
            var position = r.GetProperty("position");
            var checkpoint = new MigrationCheckpoint(
                r.GetProperty("name").GetString()!, r.GetProperty("source").GetString()!, r.GetProperty("target").GetString()!,
                position.ValueKind == JsonValueKind.Null ? null : position.GetString(),
                r.GetProperty("records").GetInt64(), r.GetProperty("completed").GetBoolean(),
                DateTimeOffset.Parse(r.GetProperty("updatedAt").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
            Bytes = r.GetProperty("bytes").GetInt64();
            var layout = r.GetProperty("layout");
            Layout = layout.ValueKind == JsonValueKind.Null ? null : layout.GetString();
            Tail = r.TryGetProperty("tail", out var tail) && tail.ValueKind == JsonValueKind.String ? tail.GetBytesFromBase64() : null;
            return string.Equals(checkpoint.Name, name, StringComparison.Ordinal) ? checkpoint : null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointUnreadable",
                $"The export checkpoint {StatePath} cannot be read ({ex.Message}); remove it and its partial file to start over.", StatePath, ex);
        }
    }

    public async Task<IReadOnlyList<MigrationCheckpoint>> ListAsync(CancellationToken cancellationToken = default)
    {
        var name = File.Exists(StatePath) ? ReadName() : null;
        if (name is null) return [];
        var c = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        return c is null ? [] : [c];
    }

    private string? ReadName()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(StatePath));
            return doc.RootElement.GetProperty("name").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or IOException)
        {
            return null;
        }
    }

    /// <summary>Writes the checkpoint with <see cref="Bytes"/> and <see cref="Layout"/>: a temporary file, flushed, renamed.</summary>
    public async Task SaveAsync(MigrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var temporary = StatePath + ".tmp";
        try
        {
            var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteNumber("version", Version);
                    w.WriteString("name", checkpoint.Name);
                    w.WriteString("source", checkpoint.Source);
                    w.WriteString("target", checkpoint.Target);
                    if (checkpoint.Position is null) w.WriteNull("position");
                    else w.WriteString("position", checkpoint.Position);
                    w.WriteNumber("records", checkpoint.Records);
                    w.WriteBoolean("completed", checkpoint.Completed);
                    w.WriteString("updatedAt", checkpoint.UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
                    w.WriteNumber("bytes", Bytes);
                    if (Layout is null) w.WriteNull("layout");
                    else w.WriteString("layout", Layout);
                    if (Tail is null) w.WriteNull("tail");
                    else w.WriteBase64String("tail", Tail);
                    w.WriteEndObject();
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, StatePath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "CheckpointSaveFailed",
                $"Could not save the export checkpoint {StatePath}: {ex.Message}", StatePath, ex);
        }
    }

    public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(StatePath) || ReadName() != name) return Task.FromResult(false);
        File.Delete(StatePath);
        return Task.FromResult(true);
    }
}
