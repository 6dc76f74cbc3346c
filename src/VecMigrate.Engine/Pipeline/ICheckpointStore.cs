namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// A named migration's progress: what it reads and writes, the source position of the last record the target
/// acknowledged, how many records that makes, and whether the source was read to its end.
/// </summary>
/// <param name="Name">The checkpoint's name (one per migration).</param>
/// <param name="Source">The source as <see cref="MigrationSource.Description"/> describes it; never a secret.</param>
/// <param name="Target">The target as <see cref="IRecordSink.Target"/> describes it; never a secret.</param>
/// <param name="Position">The last acknowledged record's position; null before the first batch.</param>
/// <param name="Records">Records acknowledged in all runs.</param>
/// <param name="Completed">The source was read to its end and everything acknowledged.</param>
/// <param name="UpdatedAt">When the checkpoint last moved.</param>
public sealed record MigrationCheckpoint(string Name, string Source, string Target, string? Position, long Records, bool Completed, DateTimeOffset UpdatedAt)
{
    /// <summary>The number of partitions when this is the whole of a split migration (its partitions are checkpoints of their own); else null.</summary>
    public int? Partitions { get; init; }
}

/// <summary>
/// Where checkpoints are kept: the target database (<c>PgCheckpointStore.Open</c>: advanced in each batch's own
/// transaction) or a folder of files (<see cref="FileCheckpointStore"/>). Lists and removes them for the
/// Get/Remove cmdlets; the runner reads one before it starts.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Where the checkpoints are, for messages: a folder, or a database and table. Never a secret.</summary>
    string Location { get; }

    /// <summary>The checkpoint called <paramref name="name"/>, or null.</summary>
    Task<MigrationCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every checkpoint, by name.</summary>
    Task<IReadOnlyList<MigrationCheckpoint>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="checkpoint"/> whole, replacing the one of the same name; durable when it returns.</summary>
    Task SaveAsync(MigrationCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Removes a checkpoint; true when there was one.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>The rule for checkpoint names, shared by every store: they become file names and table keys.</summary>
public static class CheckpointNames
{
    public const int MaxLength = 100;

    /// <summary>Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsAsciiLetterOrDigit(name[0])) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>Throws <c>CheckpointNameInvalid</c> unless <paramref name="name"/> is valid.</summary>
    public static string Check(string? name) => IsValid(name)
        ? name!
        : throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointNameInvalid",
            $"'{name}' is not a checkpoint name: use 1 to {MaxLength} letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. nightly-docs).",
            name);
}
