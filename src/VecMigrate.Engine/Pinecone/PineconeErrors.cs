namespace VecMigrate.Engine.Pinecone;

/// <summary>The stable error ids of the Pinecone area (<c>&lt;Noun&gt;&lt;Condition&gt;</c>).</summary>
public static class PineconeErrorIds
{
    /// <summary>401/403: the api key was refused.</summary>
    public const string Unauthorized = "PineconeUnauthorized";
    /// <summary>The control plane knows no index of that name (or the data plane host has none).</summary>
    public const string IndexNotFound = "PineconeIndexNotFound";
    /// <summary><c>list</c> is not available (pod-based index): ids cannot be enumerated.</summary>
    public const string ListUnsupported = "PineconeListUnsupported";
    /// <summary>An answer that does not have the shape the API promises.</summary>
    public const string InvalidResponse = "PineconeInvalidResponse";
    /// <summary>429 that retries did not get past (per-second limits, or a monthly read-unit limit).</summary>
    public const string RateLimited = "PineconeRateLimited";
    /// <summary>5xx that retries did not get past.</summary>
    public const string ServerError = "PineconeServerError";
    /// <summary>400: the server refused the request as invalid.</summary>
    public const string BadRequest = "PineconeBadRequest";
    /// <summary>Any other unexpected HTTP status.</summary>
    public const string UnexpectedStatus = "PineconeUnexpectedStatus";
    /// <summary>Options that cannot work (page size, a position that does not belong to this read).</summary>
    public const string InvalidArgument = "PineconeInvalidArgument";
    /// <summary>A <c>StartAfter</c> position that cannot be decoded.</summary>
    public const string InvalidPosition = "PineconeInvalidPosition";
    /// <summary>Prefix of the transport's timeout and unreachable ids (<c>PineconeTimeout</c>, <c>PineconeUnreachable</c>).</summary>
    public const string TransportPrefix = "Pinecone";
}
