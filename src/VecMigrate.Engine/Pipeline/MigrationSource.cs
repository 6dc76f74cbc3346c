using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// What a <see cref="Migration"/> reads: a description for checkpoints to match, and a read that can start after
/// any record's <see cref="VectorRecord.Position"/> (null: from the beginning). Each system makes its own
/// (QdrantSource.AsMigrationSource and the like); the pipeline knows none of them by name.
/// </summary>
public sealed class MigrationSource
{
    /// <param name="description">
    /// What is read, precisely enough that a checkpoint taken from one read is refused for another: system,
    /// endpoint, collection, and whatever narrows the read (filter, namespaces). Never a secret.
    /// </param>
    /// <param name="read">Reads the records after a position (null: all of them), in the source's own order.</param>
    public MigrationSource(string description, Func<string?, IAsyncEnumerable<VectorRecord>> read)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(read);
        Description = description;
        Read = read;
    }

    public string Description { get; }

    /// <summary>
    /// Whether the records after a position can be read again (false for <see cref="Once"/>): only then can a run
    /// reconnect after a lost connection and go on.
    /// </summary>
    public bool CanReread { get; init; } = true;

    /// <summary>Reads the records after a position; null reads from the beginning.</summary>
    public Func<string?, IAsyncEnumerable<VectorRecord>> Read { get; }

    /// <summary>How many records a whole read yields, as the source estimates it (for progress only); null when it cannot tell.</summary>
    public Func<CancellationToken, Task<long?>>? EstimateCount { get; init; }

    /// <summary>Calls <see cref="EstimateCount"/>; null where the source has none.</summary>
    public Task<long?> EstimateCountAsync(CancellationToken cancellationToken = default) =>
        EstimateCount?.Invoke(cancellationToken) ?? Task.FromResult<long?>(null);

    /// <summary>
    /// Splits the source into <c>n</c> parts that together hold every record exactly once (for parallel lanes and
    /// workers), each part as its bounds in the source's own terms: stored with the checkpoint and given back to
    /// <see cref="Narrow"/> by every worker. Null where the source cannot be split (<see cref="CannotSplitBecause"/> says why):
    /// lanes in one process then share one reader (<see cref="PartitionedMigration"/>'s fan-out), and workers are refused.
    /// </summary>
    public Func<int, CancellationToken, Task<IReadOnlyList<string>>>? Split { get; init; }

    /// <summary>The source narrowed to one part's bounds (from <see cref="Split"/>); its description names the bounds.</summary>
    public Func<string, MigrationSource>? Narrow { get; init; }

    /// <summary>Why the source cannot be split, for the error that refuses workers (-Partition) on it.</summary>
    public string? CannotSplitBecause { get; init; }

    /// <summary>
    /// The records with these keys (each given by its id and namespace, as this side's own reads name them), those
    /// that exist, in any order; at most <see cref="MaxFetch"/> keys a call. Null where the side can only be read whole
    /// (a sample check then reads it whole).
    /// </summary>
    public Func<IReadOnlyList<VectorRecord>, CancellationToken, IAsyncEnumerable<VectorRecord>>? Fetch { get; init; }

    /// <summary>Keys per <see cref="Fetch"/> call, at most.</summary>
    public const int MaxFetch = 1000;

    /// <summary>
    /// Nearest-neighbour search on this side (for search parity, <see cref="MigrationCheck"/>); null where the side
    /// cannot search (<see cref="CannotSearchBecause"/> says why).
    /// </summary>
    public Func<SearchQuery, CancellationToken, Task<SearchAnswer>>? Search { get; init; }

    /// <summary>Why the side cannot search, for the error that refuses search parity on it.</summary>
    public string? CannotSearchBecause { get; init; }

    public override string ToString() => Description;

    /// <summary>
    /// Records that can be read once only, in the order given (records piped into a Write- cmdlet, or any stream):
    /// a run on it cannot reconnect and read again, so a lost connection ends it with the sink's own error.
    /// </summary>
    /// <param name="description">What the records are, as a checkpoint records its source (<see cref="RecordOrigin.Read"/>).</param>
    /// <param name="records">The records, read when the run starts.</param>
    public static MigrationSource Once(string description, IAsyncEnumerable<VectorRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var taken = 0;
        return new MigrationSource(description, _ => Interlocked.Exchange(ref taken, 1) == 0
            ? records
            : throw new InvalidOperationException("These records can be read only once.")) { CanReread = false };
    }

    /// <summary>
    /// The identity of the read that made <paramref name="record"/> (its <see cref="RecordOrigin.Read"/>), for a
    /// checkpoint of records piped in: the same text a copy from that read records.
    /// </summary>
    public static string DescribeOrigin(VectorRecord record) =>
        record.Origin?.Read ?? record.Origin?.ToString() ?? "records built from objects";
}
