using System.Globalization;
using System.Text.RegularExpressions;

namespace VecMigrate.Engine.Pipeline;

/// <summary>One partition of a split migration, as a worker asks for it: "3/8" is the third of eight (1-based).</summary>
public readonly partial record struct PartitionSelector(int Index, int Count)
{
    /// <summary>At most this many partitions: each is a row in the checkpoint table and a worker somewhere.</summary>
    public const int MaxCount = 1024;

    /// <summary>Parses "i/N" (1 ≤ i ≤ N ≤ 1024).</summary>
    public static PartitionSelector Parse(string text)
    {
        var m = Pattern().Match(text ?? "");
        if (m.Success
            && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n is >= 1 and <= MaxCount && i >= 1 && i <= n)
        {
            return new PartitionSelector(i, n);
        }
        throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionInvalid",
            $"'{text}' is not a partition: write i/N, the i-th of N partitions, with 1 ≤ i ≤ N ≤ {MaxCount} (e.g. 3/8).", text);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    [GeneratedRegex(@"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")]
    private static partial Regex Pattern();
}

/// <summary>A partition's progress, as the checkpoint store keeps it.</summary>
/// <param name="Index">1-based.</param>
/// <param name="Count">Partitions in the split.</param>
/// <param name="Name">Its own checkpoint's name: the whole's name with <c>#i/N</c>.</param>
/// <param name="Bounds">What of the source it reads, in the source's own terms (opaque here; the source narrows to it).</param>
/// <param name="Position">The last acknowledged record's position within the partition; null before the first batch.</param>
/// <param name="Records">Records acknowledged in the partition, in all runs.</param>
/// <param name="Completed">The partition was read to its end and everything acknowledged.</param>
/// <param name="Holder">The worker holding (or that last held) the partition's lease; null when none ever did or it was released.</param>
/// <param name="LeaseUntil">When the holder's lease runs out unless renewed (each committed batch renews it).</param>
/// <param name="UpdatedAt">When the partition last moved (for a completed one: when it finished).</param>
public sealed record PartitionState(int Index, int Count, string Name, string Bounds, string? Position, long Records, bool Completed,
    string? Holder, DateTimeOffset? LeaseUntil, DateTimeOffset UpdatedAt);

/// <summary>A migration split into partitions: the whole, fixed when it was created, and each partition's state.</summary>
public sealed record PartitionedCheckpoint(string Name, string Source, string Target, bool Completed, IReadOnlyList<PartitionState> Partitions)
{
    public long Records => Partitions.Sum(p => p.Records);
}

/// <summary>
/// Where a split migration is kept, and how a worker takes a partition: a lease (holder and expiry) taken with a
/// conditional update, renewed by each batch the partition commits, and checked in that batch's own transaction
/// (so a worker whose lease ran out and went to another cannot commit into the partition any more).
/// </summary>
public interface IPartitionLedger
{
    /// <summary>Where, for messages; never a secret.</summary>
    string Location { get; }

    /// <summary>
    /// The split migration <paramref name="name"/>; null when there is no checkpoint of that name. Throws
    /// <c>PartitionCheckpointNotSplit</c> for a checkpoint of that name that was made without partitions.
    /// </summary>
    Task<PartitionedCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the whole and its partitions, all in one transaction, unless a checkpoint of that name exists; returns
    /// what is stored (another worker's split when it was first), so every worker goes on with the same split.
    /// </summary>
    /// <param name="name">The checkpoint's name.</param>
    /// <param name="source">The whole source's description.</param>
    /// <param name="target">The target's description.</param>
    /// <param name="partitions">Each partition's bounds and the description of the source narrowed to them.</param>
    /// <param name="cancellationToken">Stops the call.</param>
    Task<PartitionedCheckpoint> CreateAsync(string name, string source, string target,
        IReadOnlyList<(string Bounds, string Source)> partitions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes partition <paramref name="partition"/> for <paramref name="holder"/> when no one holds it, its lease ran
    /// out, or the holder already holds it; false when it is complete or another holder's lease is current.
    /// </summary>
    Task<bool> TryTakeAsync(string name, int partition, string holder, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Gives the partition up (when the holder stops before it is complete), so the next worker need not wait for the lease.</summary>
    Task ReleaseAsync(string name, int partition, string holder, CancellationToken cancellationToken = default);

    /// <summary>Marks the whole complete once every partition is; true only for the one call that did so.</summary>
    Task<bool> TryCompleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Where a lane of <paramref name="holder"/> keeps its partitions' checkpoints when the sink cannot keep them
    /// with its data (a target that upserts by id: the lease is then checked when a checkpoint is saved); null where
    /// the sink must (a Postgres target: <see cref="IRecordSink.AttachLease"/>).
    /// </summary>
    ICheckpointStore? CheckpointStoreFor(string holder) => null;
}

/// <summary>The rules for partitions' checkpoint names and their leases' holders.</summary>
public static class PartitionNames
{
    /// <summary>The checkpoint name of partition <paramref name="index"/> of <paramref name="count"/>: <c>big#3/8</c>.</summary>
    public static string Of(string name, int index, int count) => string.Create(CultureInfo.InvariantCulture, $"{name}#{index}/{count}");

    /// <summary>Splits <c>big#3/8</c> into its whole's name and the partition; false for any other name.</summary>
    public static bool TryParse(string name, out string whole, out PartitionSelector partition)
    {
        whole = "";
        partition = default;
        var hash = name.LastIndexOf('#');
        if (hash <= 0 || !CheckpointNames.IsValid(name[..hash])) return false;
        try
        {
            partition = PartitionSelector.Parse(name[(hash + 1)..]);
        }
        catch (VecMigrateException)
        {
            return false;
        }
        whole = name[..hash];
        return Of(whole, partition.Index, partition.Count) == name;
    }

    /// <summary>A holder id for one process's lanes: machine, process and a random part (never a user name or secret).</summary>
    public static string NewHolder() =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");
}
