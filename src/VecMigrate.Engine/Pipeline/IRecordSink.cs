using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>A batch the target has acknowledged (committed, or answered 200 for): how many records, and the source position of its last one.</summary>
public readonly record struct AcknowledgedBatch(int Count, string? LastPosition);

/// <summary>
/// Where a <see cref="Migration"/> writes: a Postgres table, a Qdrant collection, a Pinecone index. Records go in
/// one at a time; the sink groups them into batches and raises <see cref="BatchAcknowledged"/> once the target
/// has a batch for good. The runner keeps the checkpoint from those acknowledgements.
/// </summary>
/// <remarks>
/// What a sink must keep to for resume to be exact: <see cref="BatchAcknowledged"/> is raised in source order,
/// only after the target has the whole batch and every batch before it (a sink that uploads batches in
/// parallel acknowledges only the contiguous prefix). A failure that lost the connection is thrown as a
/// <see cref="VecMigrateException"/> of kind <see cref="FailureKind.Unreachable"/> or
/// <see cref="FailureKind.Timeout"/>; the runner then calls <see cref="ReopenAsync"/> and replays from the
/// last acknowledged record. Any other failure stops the run.
/// </remarks>
public interface IRecordSink : IAsyncDisposable
{
    /// <summary>
    /// What is written into, as a checkpoint records it and a resume must match: e.g.
    /// <c>Qdrant http://host:6333 collection 'docs'</c>. Never holds a secret.
    /// </summary>
    string Target { get; }

    /// <summary>
    /// Writing a record again leaves the target as writing it once did (an upsert by id). Only such a sink may
    /// keep its checkpoint apart from its data (in a file): replaying the batch written just before a crash,
    /// whose acknowledgement the checkpoint missed, is then harmless.
    /// </summary>
    bool Idempotent { get; }

    /// <summary>Raised after each acknowledged batch, in source order (see remarks).</summary>
    event Action<AcknowledgedBatch>? BatchAcknowledged;

    /// <summary>
    /// Asks the sink to keep checkpoint <paramref name="name"/> itself, in the same commit as each batch (called
    /// once, before the first record). Returns the store the sink keeps it in, or null when the sink cannot: the
    /// runner then keeps the checkpoint in a <see cref="FileCheckpointStore"/>, advanced after each acknowledgement.
    /// </summary>
    /// <param name="name">The checkpoint's name.</param>
    /// <param name="source">The source's description (<see cref="MigrationSource.Description"/>).</param>
    /// <param name="resume">An existing checkpoint of this name is to be continued (the runner has checked it matches).</param>
    ICheckpointStore? AttachCheckpoint(string name, string source, bool resume) => null;

    /// <summary>
    /// Asks the sink to commit each batch only while <paramref name="holder"/> holds the lease of the checkpoint it
    /// is about to be attached to (a partition of a split migration), checked and renewed by
    /// <paramref name="lease"/> in the batch's own commit. Called before <see cref="AttachCheckpoint"/>. False when the
    /// sink cannot (then the runner refuses to run partitions into it).
    /// </summary>
    bool AttachLease(string holder, TimeSpan lease) => false;

    /// <summary>
    /// Adds one record to the open batch, sending the batch when full. Throws
    /// <see cref="RecordRejectedException"/> for a record that cannot be written (the sink goes on).
    /// </summary>
    ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default);

    /// <summary>Sends the open batch, if any, and waits for its acknowledgement.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Flushes, and finishes: the source was read to its end.</summary>
    Task CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// After a failure that lost the connection: drops what was not acknowledged and gets ready to take records
    /// again (a new connection). What was acknowledged stays. Throws as <see cref="WriteAsync"/> does when the
    /// target is still out of reach.
    /// </summary>
    Task ReopenAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
