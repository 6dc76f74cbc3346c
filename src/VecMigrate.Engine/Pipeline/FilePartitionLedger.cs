using System.Text.Json;
using System.Text.Json.Serialization;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// A split migration kept in a file of the checkpoint folder (<c>big.partitions</c>), for targets that cannot keep it
/// with their data (Qdrant, Pinecone, Milvus): the split, each partition's position and records, and who holds it
/// until when. Every change is a read-modify-write under a lock file (<c>big.partitions.lock</c>, opened exclusively,
/// which holds across processes on one machine and on a share that honours exclusive opens), written to a temporary
/// file and renamed over the old one.
/// </summary>
/// <remarks>
/// <para>There is no transaction to fence a batch with, as a Postgres target has: a worker that stalled past its
/// lease can still send a batch after another took the partition over. These targets upsert by id, so that batch
/// writes the same records again and changes nothing; what the lease protects here is the partition's position: a
/// lane's checkpoint is saved only while it holds the lease (<see cref="CheckpointStoreFor"/>), otherwise the save is
/// refused with <see cref="PartitionedMigration.LeaseLostId"/> and the lane stops.</para>
/// <para>Saving a partition's checkpoint renews its holder's lease, as a committed batch does in Postgres.</para>
/// </remarks>
public sealed class FilePartitionLedger : IPartitionLedger
{
    private const string Extension = ".partitions";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <param name="directory">The checkpoint folder; null for <see cref="FileCheckpointStore.DefaultDirectory"/>.</param>
    public FilePartitionLedger(string? directory = null)
    {
        Directory = Path.GetFullPath(string.IsNullOrWhiteSpace(directory) ? FileCheckpointStore.DefaultDirectory() : directory);
    }

    /// <summary>The folder the files are in.</summary>
    public string Directory { get; }

    public string Location => Directory;

    /// <summary>Where the split migration <paramref name="name"/> is kept.</summary>
    public string PathOf(string name) => Path.Combine(Directory, CheckpointNames.Check(name) + Extension);

    // ------------------------------------------------------------------ the file

    private sealed class Stored
    {
        public int Version { get; set; } = 1;
        public string Name { get; set; } = "";
        public string Source { get; set; } = "";
        public string Target { get; set; } = "";
        public bool Completed { get; set; }
        public List<StoredPart> Partitions { get; set; } = [];
    }

    private sealed class StoredPart
    {
        public int Index { get; set; }
        public string Bounds { get; set; } = "";
        public string Source { get; set; } = "";
        public string? Position { get; set; }
        public long Records { get; set; }
        public bool Completed { get; set; }
        public string? Holder { get; set; }
        public DateTimeOffset? LeaseUntil { get; set; }
        public double LeaseSeconds { get; set; }
        public DateTimeOffset UpdatedAt { get; set; }
    }

    private static PartitionedCheckpoint ToCheckpoint(Stored s) => new(s.Name, s.Source, s.Target, s.Completed,
        s.Partitions.Select(p => new PartitionState(p.Index, s.Partitions.Count, PartitionNames.Of(s.Name, p.Index, s.Partitions.Count), p.Bounds,
            p.Position, p.Records, p.Completed, p.Holder, p.LeaseUntil, p.UpdatedAt)).ToList());

    /// <summary>Runs <paramref name="change"/> on the stored split (null when there is none) under the lock; saves it when it returns true.</summary>
    private async Task<T> WithLockAsync<T>(string name, Func<Stored?, (bool Save, Stored? State, T Result)> change, CancellationToken ct)
    {
        var path = PathOf(name);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            await using var held = await LockAsync(path + ".lock", ct).ConfigureAwait(false);
            Stored? state = null;
            if (File.Exists(path))
            {
                state = JsonSerializer.Deserialize<Stored>(await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false), Json)
                    ?? throw Corrupt(path, "it is empty");
            }
            var (save, updated, result) = change(state);
            if (save && updated is not null)
            {
                var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    await stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(updated, Json), ct).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temporary, path, overwrite: true);
            }
            return result;
        }
        catch (JsonException ex)
        {
            throw Corrupt(path, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "CheckpointSaveFailed", $"Could not keep split checkpoint '{name}' in {Directory}: {ex.Message}", path, ex);
        }
    }

    private static VecMigrateException Corrupt(string path, string why) =>
        new(FailureKind.InvalidArgument, "CheckpointUnreadable", $"Split checkpoint {path} cannot be read ({why}); remove it to start the copy again.", path);

    /// <summary>Opens the lock file exclusively, waiting (up to a minute) while another process holds it.</summary>
    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(Math.Min(100, 5 + attempt * 5), ct).ConfigureAwait(false);
            }
        }
    }

    // ------------------------------------------------------------------ IPartitionLedger

    public async Task<PartitionedCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        if (File.Exists(Path.Combine(Directory, CheckpointNames.Check(name) + ".json")))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionCheckpointNotSplit",
                $"Checkpoint '{name}' ({Directory}) was made without partitions; resume it without -Parallel and -Partition, or use another name.", name);
        }
        // A read creates nothing: no folder, no lock file, when there is no split.
        if (!File.Exists(PathOf(name))) return null;
        return await WithLockAsync(name, s => (false, s, s is null ? null : ToCheckpoint(s)), cancellationToken).ConfigureAwait(false);
    }

    public async Task<PartitionedCheckpoint> CreateAsync(string name, string source, string target, IReadOnlyList<(string Bounds, string Source)> partitions,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        await GetAsync(name, cancellationToken).ConfigureAwait(false); // refuses a plain checkpoint of that name
        var now = DateTimeOffset.UtcNow;
        return await WithLockAsync(name, s =>
        {
            if (s is not null) return (false, s, ToCheckpoint(s)); // another worker was first: its split stands
            var created = new Stored
            {
                Name = name, Source = source, Target = target,
                Partitions = partitions.Select((p, i) => new StoredPart { Index = i + 1, Bounds = p.Bounds, Source = p.Source, UpdatedAt = now }).ToList(),
            };
            return (true, created, ToCheckpoint(created));
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> TryTakeAsync(string name, int partition, string holder, TimeSpan lease, CancellationToken cancellationToken = default) =>
        WithLockAsync(name, s =>
        {
            var p = s?.Partitions.FirstOrDefault(x => x.Index == partition);
            var now = DateTimeOffset.UtcNow;
            if (p is null || p.Completed || (p.Holder is not null && p.Holder != holder && p.LeaseUntil > now)) return (false, s, false);
            (p.Holder, p.LeaseUntil, p.LeaseSeconds) = (holder, now + lease, lease.TotalSeconds);
            return (true, s, true);
        }, cancellationToken);

    public Task ReleaseAsync(string name, int partition, string holder, CancellationToken cancellationToken = default) =>
        WithLockAsync(name, s =>
        {
            var p = s?.Partitions.FirstOrDefault(x => x.Index == partition);
            if (p is null || p.Holder != holder) return (false, s, 0);
            (p.Holder, p.LeaseUntil) = (null, null);
            return (true, s, 0);
        }, cancellationToken);

    public Task<bool> TryCompleteAsync(string name, CancellationToken cancellationToken = default) =>
        WithLockAsync(name, s =>
        {
            if (s is null || s.Completed || s.Partitions.Any(p => !p.Completed)) return (false, s, false);
            s.Completed = true;
            return (true, s, true);
        }, cancellationToken);

    /// <summary>Removes the split migration; true when there was one.</summary>
    public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default) => !File.Exists(PathOf(name)) ? Task.FromResult(false) :
        WithLockAsync(name, s =>
        {
            if (s is null) return (false, s, false);
            File.Delete(PathOf(name));
            return (false, s, true);
        }, cancellationToken);

    /// <summary>The whole of a split migration as a checkpoint (records summed, <see cref="MigrationCheckpoint.Partitions"/> set).</summary>
    public static MigrationCheckpoint Whole(PartitionedCheckpoint split) =>
        new(split.Name, split.Source, split.Target, null, split.Records, split.Completed,
            split.Partitions.Count == 0 ? DateTimeOffset.UtcNow : split.Partitions.Max(p => p.UpdatedAt)) { Partitions = split.Partitions.Count };

    /// <summary>The whole of the split migration <paramref name="name"/>, or null when there is none.</summary>
    public async Task<MigrationCheckpoint?> GetWholeAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!CheckpointNames.IsValid(name) || !File.Exists(PathOf(name))) return null;
        var split = await WithLockAsync(name, s => (false, s, s is null ? null : ToCheckpoint(s)), cancellationToken).ConfigureAwait(false);
        return split is null ? null : Whole(split);
    }

    /// <summary>Every split migration in the folder.</summary>
    public async Task<IReadOnlyList<PartitionedCheckpoint>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<PartitionedCheckpoint>();
        if (!System.IO.Directory.Exists(Directory)) return result;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (!CheckpointNames.IsValid(name)) continue;
            if (await WithLockAsync(name, s => (false, s, s is null ? null : ToCheckpoint(s)), cancellationToken).ConfigureAwait(false) is { } found) result.Add(found);
        }
        return result;
    }

    /// <summary>
    /// The checkpoints of the partitions, as the lane of <paramref name="holder"/> keeps them: a save is refused once
    /// the lane no longer holds the partition's lease, and renews it while it does.
    /// </summary>
    public ICheckpointStore? CheckpointStoreFor(string holder) => new PartitionStore(this, holder);

    private sealed class PartitionStore(FilePartitionLedger ledger, string holder) : ICheckpointStore
    {
        public string Location => ledger.Directory;

        public Task<MigrationCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            if (!PartitionNames.TryParse(name, out var whole, out var which)) return Task.FromResult<MigrationCheckpoint?>(null);
            return ledger.WithLockAsync(whole, s =>
            {
                var p = s?.Partitions.FirstOrDefault(x => x.Index == which.Index);
                return (false, s, p is null || s is null ? null
                    : new MigrationCheckpoint(name, p.Source, s.Target, p.Position, p.Records, p.Completed, p.UpdatedAt));
            }, cancellationToken);
        }

        public Task<IReadOnlyList<MigrationCheckpoint>> ListAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<MigrationCheckpoint>>([]);

        public Task SaveAsync(MigrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
        {
            if (!PartitionNames.TryParse(checkpoint.Name, out var whole, out var which))
                throw new InvalidOperationException($"'{checkpoint.Name}' is not a partition's checkpoint.");
            return ledger.WithLockAsync(whole, s =>
            {
                var p = s?.Partitions.FirstOrDefault(x => x.Index == which.Index)
                    ?? throw new VecMigrateException(FailureKind.NotFound, "MigrationCheckpointRemoved", $"Checkpoint '{whole}' ({ledger.Directory}) was removed while the migration ran.", whole);
                var now = DateTimeOffset.UtcNow;
                if (p.Holder != holder)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, PartitionedMigration.LeaseLostId,
                        $"Partition {which} of '{whole}' went to {p.Holder ?? "no one"} after this lane's lease ran out; its batches were upserts, so the records it wrote again change nothing.", checkpoint.Name);
                }
                (p.Position, p.Records, p.Completed, p.UpdatedAt) = (checkpoint.Position, checkpoint.Records, checkpoint.Completed, now);
                p.LeaseUntil = now + TimeSpan.FromSeconds(p.LeaseSeconds);
                return (true, s, 0);
            }, cancellationToken);
        }

        public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(false);
    }
}
