using System.Globalization;
using System.Text.Json;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// Checkpoints as JSON files in a folder, one per name (<c>nightly-docs.json</c>), for targets that cannot keep
/// them with their data (Qdrant, Pinecone). A save writes a temporary file, flushes it to disk and renames it
/// over the old one, so a crash at any moment leaves the previous checkpoint or the new one, never half of one.
/// </summary>
public sealed class FileCheckpointStore : ICheckpointStore
{
    /// <summary>The environment variable that moves the default folder (e.g. onto a persistent share).</summary>
    public const string DirectoryVariable = "VECMIGRATE_STATE_DIR";

    private const int Version = 1;
    private const string Extension = ".json";
    private bool _sweptTemporaries;

    /// <param name="directory">The folder; null for <see cref="DefaultDirectory"/>.</param>
    public FileCheckpointStore(string? directory = null)
    {
        Directory = Path.GetFullPath(string.IsNullOrWhiteSpace(directory) ? DefaultDirectory() : directory);
    }

    /// <summary>The folder the files are in.</summary>
    public string Directory { get; }

    public string Location => Directory;

    /// <summary>
    /// <c>$VECMIGRATE_STATE_DIR</c> when set, else <c>vecmigrate/checkpoints</c> in the user's local application
    /// data folder (<c>%LOCALAPPDATA%</c> on Windows, <c>~/.local/share</c> elsewhere).
    /// </summary>
    public static string DefaultDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment;
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(local))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointFolderUnknown",
                $"This account has no local application data folder to keep checkpoints in; set {DirectoryVariable} to a folder that lasts between runs.");
        }
        return Path.Combine(local, "vecmigrate", "checkpoints");
    }

    private string PathOf(string name) => Path.Combine(Directory, CheckpointNames.Check(name) + Extension);

    public async Task<MigrationCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // A split migration of that name (its partitions in big.partitions): the whole, so that a run record by
            // record refuses it rather than starting beside it.
            return await new FilePartitionLedger(Directory).GetWholeAsync(name, cancellationToken).ConfigureAwait(false);
        }
        return Parse(bytes, path);
    }

    public async Task<IReadOnlyList<MigrationCheckpoint>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<MigrationCheckpoint>();
        if (!System.IO.Directory.Exists(Directory)) return result;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (!CheckpointNames.IsValid(Path.GetFileNameWithoutExtension(path))) continue; // not one of ours
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                continue; // removed meanwhile
            }
            result.Add(Parse(bytes, path));
        }
        // Split migrations, each as its whole (Get-VecMigrateCheckpoint lists their partitions).
        foreach (var split in await new FilePartitionLedger(Directory).ListAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(FilePartitionLedger.Whole(split));
        }
        return result.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    public async Task SaveAsync(MigrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var path = PathOf(checkpoint.Name);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            if (!_sweptTemporaries)
            {
                SweepTemporaries(checkpoint.Name);
                _sweptTemporaries = true;
            }
            var temporary = Path.Combine(Directory, $".{checkpoint.Name}{Extension}.{Guid.NewGuid():N}.tmp");
            try
            {
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    await stream.WriteAsync(Serialize(checkpoint), cancellationToken).ConfigureAwait(false);
                    // On disk before the rename makes it the checkpoint: a crash then finds the old file or this one.
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temporary, path, overwrite: true);
            }
            catch
            {
                try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "CheckpointSaveFailed",
                $"Could not save checkpoint '{checkpoint.Name}' in {Directory}: {ex.Message}", path, ex);
        }
    }

    public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return new FilePartitionLedger(Directory).RemoveAsync(name, cancellationToken); // a split one, as a whole
        File.Delete(path);
        return Task.FromResult(true);
    }

    /// <summary>Temporary files a killed save left behind.</summary>
    private void SweepTemporaries(string name)
    {
        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, $".{name}{Extension}.*.tmp"))
        {
            try { File.Delete(stale); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static byte[] Serialize(MigrationCheckpoint c)
    {
        using var buffer = new MemoryStream(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteString("name", c.Name);
            w.WriteString("source", c.Source);
            w.WriteString("target", c.Target);
            if (c.Position is null) w.WriteNull("position");
            else w.WriteString("position", c.Position);
            w.WriteNumber("records", c.Records);
            w.WriteBoolean("completed", c.Completed);
            w.WriteString("updatedAt", c.UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static MigrationCheckpoint Parse(byte[] bytes, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var r = doc.RootElement;
            if (r.GetProperty("version").GetInt32() != Version) throw new FormatException($"version {r.GetProperty("version")} is not {Version}");
            var position = r.GetProperty("position");
            return new MigrationCheckpoint(
                r.GetProperty("name").GetString() ?? throw new FormatException("no name"),
                r.GetProperty("source").GetString() ?? throw new FormatException("no source"),
                r.GetProperty("target").GetString() ?? throw new FormatException("no target"),
                position.ValueKind == JsonValueKind.Null ? null : position.GetString(),
                r.GetProperty("records").GetInt64(),
                r.GetProperty("completed").GetBoolean(),
                DateTimeOffset.Parse(r.GetProperty("updatedAt").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointUnreadable",
                $"The checkpoint file {path} cannot be read ({ex.Message}); remove it to start over.", path, ex);
        }
    }
}
