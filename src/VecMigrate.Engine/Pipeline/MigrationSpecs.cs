using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// What a migration reads, described without connecting (New-QdrantSource and the like): opened only when a copy
/// runs. Secrets are held as <see cref="ApiSecret"/> or connection settings, never as a property, and no printable
/// form shows them.
/// </summary>
public abstract class MigrationSourceSpec
{
    /// <summary>The system: Qdrant, Pinecone or Postgres.</summary>
    public abstract string System { get; }

    /// <summary>What is read, for people: endpoint and collection, index or table. Never a secret.</summary>
    public abstract string Description { get; }

    /// <summary>Opens the source on <paramref name="transport"/> (owned by the caller, shared by both sides).</summary>
    public abstract MigrationSource Open(RestTransport transport, ILoggerFactory loggers);

    public override string ToString() => Description;
}

/// <summary>
/// What a migration writes into, described without connecting. Any <see cref="IRecordSink"/> can stand behind one;
/// a Postgres table keeps its checkpoint in its own database, other targets in a <see cref="FileCheckpointStore"/>.
/// </summary>
public abstract class MigrationTargetSpec
{
    public abstract string System { get; }

    public abstract string Description { get; }

    /// <summary>Writing empties what is there first (asks for confirmation with high impact).</summary>
    public virtual bool Destructive => false;

    /// <summary>Opens the sink; the caller disposes it.</summary>
    public abstract IRecordSink Open(RestTransport transport, ILoggerFactory loggers);

    /// <summary>The target read back as a source (to check a copy), or null where it cannot be read.</summary>
    public virtual MigrationSourceSpec? AsSource() => null;

    /// <summary>
    /// Where a migration into this target split into partitions is kept, with each partition's lease: the target's
    /// own database where it can fence each batch with the lease (Postgres), else a file in
    /// <paramref name="stateDirectory"/> for targets that upsert by id (<see cref="FilePartitionLedger"/>); null when
    /// neither holds (then parallel lanes and partitions are refused).
    /// </summary>
    /// <param name="stateDirectory">The checkpoint folder (-StateDirectory); null for the default one.</param>
    public virtual IPartitionLedger? OpenPartitionLedger(string? stateDirectory = null) => null;

    /// <summary>Why parallel lanes cannot write into this target as it is set up (e.g. a mode that empties it first); null when they can.</summary>
    public virtual string? CannotWriteInParallelBecause => null;

    /// <summary>After a complete copy: work that waits for all the data (e.g. building indexes).</summary>
    public virtual Task FinishAsync(IRecordSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

    public override string ToString() => Description;
}
