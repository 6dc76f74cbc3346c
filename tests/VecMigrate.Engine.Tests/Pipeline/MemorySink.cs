using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Tests.Pipeline;

/// <summary>
/// An idempotent sink in memory (an upsert by id), acknowledging each batch when it is full or flushed, that can
/// lose its connection on demand: the open batch is then gone, as on a real target.
/// </summary>
internal sealed class MemorySink(int batchSize, string target = "Memory target", bool idempotent = true) : IRecordSink
{
    private readonly List<VectorRecord> _open = [];

    /// <summary>What the target holds, by id (hand one sink's to another to play a new process on the same target).</summary>
    public Dictionary<PointId, VectorRecord> Stored { get; init; } = [];

    /// <summary>Every record ever stored, repeats included.</summary>
    public int Writes { get; private set; }

    /// <summary>Throw a lost connection when this many more batches have been acknowledged (null: never).</summary>
    public int? LoseConnectionAfterBatches { get; set; }

    /// <summary>Reopens that fail before one succeeds.</summary>
    public int FailingReopens { get; set; }

    public int Reopens { get; private set; }

    public int Batches { get; private set; }

    /// <summary>Refuse the record with this id.</summary>
    public PointId? Refuse { get; set; }

    public string Target { get; } = target;

    public bool Idempotent { get; } = idempotent;

    public event Action<AcknowledgedBatch>? BatchAcknowledged;

    public ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        if (Refuse == record.Id) throw new RecordRejectedException("MemoryRecordRefused", $"Record {record} is refused.", record);
        _open.Add(record);
        return _open.Count >= batchSize ? new ValueTask(SendAsync()) : ValueTask.CompletedTask;
    }

    public Task FlushAsync(CancellationToken cancellationToken = default) => _open.Count > 0 ? SendAsync() : Task.CompletedTask;

    public Task CompleteAsync(CancellationToken cancellationToken = default) => FlushAsync(cancellationToken);

    public Task ReopenAsync(CancellationToken cancellationToken = default)
    {
        _open.Clear();
        if (FailingReopens > 0)
        {
            FailingReopens--;
            throw Lost();
        }
        Reopens++;
        return Task.CompletedTask;
    }

    private Task SendAsync()
    {
        if (LoseConnectionAfterBatches is { } n)
        {
            if (n <= 0)
            {
                LoseConnectionAfterBatches = null;
                // Half the batch reached the target before the connection went: an idempotent target keeps it.
                foreach (var r in _open.Take(_open.Count / 2)) Store(r);
                _open.Clear();
                throw Lost();
            }
            LoseConnectionAfterBatches = n - 1;
        }
        foreach (var r in _open) Store(r);
        var last = _open[^1].Position;
        var count = _open.Count;
        _open.Clear();
        Batches++;
        BatchAcknowledged?.Invoke(new AcknowledgedBatch(count, last));
        return Task.CompletedTask;
    }

    private void Store(VectorRecord r)
    {
        Stored[r.Id] = r;
        Writes++;
    }

    private VecMigrateException Lost() => new(FailureKind.Unreachable, "MemoryUnreachable", "The memory target went away.", Target);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
