namespace VecMigrate.Engine;

/// <summary>The engine's own classification of a failure; the cmdlet layer maps it to an ErrorCategory.</summary>
public enum FailureKind
{
    /// <summary>A collection, index, table or namespace does not exist.</summary>
    NotFound,
    /// <summary>The key or credentials were refused (401/403, Postgres auth).</summary>
    Unauthorized,
    /// <summary>The server could not be reached, or went away.</summary>
    Unreachable,
    /// <summary>A call took longer than its timeout.</summary>
    Timeout,
    /// <summary>The server answered with something the API does not promise.</summary>
    InvalidResponse,
    /// <summary>A record cannot be written as it is (NaN, dimension, \u0000, id that doesn't fit).</summary>
    InvalidRecord,
    /// <summary>Parameters that cannot work together, or a request the server refused as bad.</summary>
    InvalidArgument,
    /// <summary>An existing target (table, collection) whose shape cannot take the records.</summary>
    IncompatibleTarget,
    /// <summary>A vendor limit (request size, metadata size, rate) that retries did not get past.</summary>
    LimitExceeded,
    /// <summary>Something needed on the server is missing (the vector extension).</summary>
    MissingPrerequisite,
    /// <summary>A write that failed part-way; what was committed before it stays.</summary>
    WriteFailed,
}

/// <summary>
/// A failure the engine understands: what kind it is, a stable id (<c>&lt;Noun&gt;&lt;Condition&gt;</c>,
/// e.g. <c>QdrantCollectionNotFound</c>) and what it concerns (a url, collection, table or record).
/// Messages never hold secrets.
/// </summary>
public class VecMigrateException : Exception
{
    public VecMigrateException(FailureKind kind, string errorId, string message, string? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        ErrorId = errorId;
        Target = target;
    }

    public FailureKind Kind { get; }

    /// <summary>A stable id such as <c>QdrantCollectionNotFound</c>, for ErrorRecord ids and scripts.</summary>
    public string ErrorId { get; }

    /// <summary>The url, collection, table or record this failure concerns.</summary>
    public string? Target { get; }
}

/// <summary>
/// One record that cannot be written; the writer skips it and stays usable. The cmdlet reports it
/// with WriteError and goes on (or stops under -ErrorAction Stop).
/// </summary>
public sealed class RecordRejectedException : VecMigrateException
{
    public RecordRejectedException(string errorId, string message, Records.VectorRecord record, Exception? inner = null)
        : base(FailureKind.InvalidRecord, errorId, message, record.ToString(), inner)
    {
        Record = record;
    }

    public Records.VectorRecord Record { get; }
}
