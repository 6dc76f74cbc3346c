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
    /// <summary>The upsert answer's <c>upsertedCount</c> is not the number of vectors sent.</summary>
    public const string UpsertCountMismatch = "PineconeUpsertCountMismatch";
    /// <summary>A batch of records could not be upserted (retries used up, or refused); earlier batches stay.</summary>
    public const string UpsertFailed = "PineconeUpsertFailed";
    /// <summary>The target index cannot take the records as they are (vector type, dimension, metric).</summary>
    public const string IndexIncompatible = "PineconeIndexIncompatible";
    /// <summary>Records have several dense (or sparse) vectors and Pinecone holds one: name the one to write.</summary>
    public const string VectorChoiceNeeded = "PineconeVectorChoiceNeeded";
    /// <summary>A multivector (late interaction) has no Pinecone form.</summary>
    public const string MultivectorUnsupported = "PineconeMultivectorUnsupported";

    // Records refused before anything of them is sent (RecordRejectedException); the sink goes on.

    /// <summary>An empty id, or one holding the character U+0000.</summary>
    public const string IdInvalid = "PineconeIdInvalid";
    /// <summary>An id longer than 512 characters.</summary>
    public const string IdTooLong = "PineconeIdTooLong";
    /// <summary>The record lacks the vector the index needs (dense values for a dense index, sparse for a sparse one).</summary>
    public const string VectorMissing = "PineconeVectorMissing";
    /// <summary>The record has a vector that is not written and was not named to be left behind.</summary>
    public const string VectorNotWritten = "PineconeVectorNotWritten";
    /// <summary>The chosen vector is of another kind in this record (sparse where dense is written, ...).</summary>
    public const string VectorKindMismatch = "PineconeVectorKindMismatch";
    /// <summary>Dense values whose count is not the index's dimension.</summary>
    public const string DimensionMismatch = "PineconeDimensionMismatch";
    /// <summary>NaN or infinity: JSON cannot carry them and Pinecone stores only finite floats.</summary>
    public const string VectorNotFinite = "PineconeVectorNotFinite";
    /// <summary>Dense values that are all zero, which Pinecone refuses.</summary>
    public const string VectorAllZeros = "PineconeVectorAllZeros";
    /// <summary>A sparse vector that names the same index twice.</summary>
    public const string SparseIndexDuplicate = "PineconeSparseIndexDuplicate";
    /// <summary>A sparse vector with more than 1,000 non-zero values.</summary>
    public const string SparseTooManyValues = "PineconeSparseTooManyValues";
    /// <summary>Metadata over 40 KB serialized.</summary>
    public const string MetadataTooLarge = "PineconeMetadataTooLarge";
    /// <summary>A metadata value that is null (Pinecone: remove the key instead).</summary>
    public const string MetadataNull = "PineconeMetadataNull";
    /// <summary>A metadata value that is an object (Pinecone metadata is flat).</summary>
    public const string MetadataNested = "PineconeMetadataNested";
    /// <summary>Metadata that is not an object, or a list holding something other than strings.</summary>
    public const string MetadataUnsupported = "PineconeMetadataUnsupported";
    /// <summary>A metadata number that Pinecone's 64-bit floats would change (e.g. an integer beyond 2^53).</summary>
    public const string MetadataNumberInexact = "PineconeMetadataNumberInexact";
    /// <summary>Metadata that is not valid JSON.</summary>
    public const string MetadataInvalid = "PineconeMetadataInvalid";
    /// <summary>One record whose upsert JSON alone passes the request size limit.</summary>
    public const string RecordTooLarge = "PineconeRecordTooLarge";

    /// <summary>Prefix of the transport's timeout and unreachable ids (<c>PineconeTimeout</c>, <c>PineconeUnreachable</c>).</summary>
    public const string TransportPrefix = "Pinecone";
}
