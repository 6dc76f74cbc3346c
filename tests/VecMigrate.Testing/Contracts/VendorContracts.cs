using System.Diagnostics.CodeAnalysis;

namespace VecMigrate.Testing.Contracts;

/// <summary>
/// The vendors' OpenAPI documents in <c>shared/contracts/</c>, which sits beside the repository
/// (<c>../shared/contracts/</c> from its root) on developers' machines and in CI, or wherever
/// <c>VECMIGRATE_CONTRACTS</c> points. Loaded once per process; absent means contract tests skip
/// (see <see cref="ContractFactAttribute"/>), a broken file means they fail.
/// </summary>
public sealed class VendorContracts
{
    public const string EnvironmentVariable = "VECMIGRATE_CONTRACTS";
    public const string QdrantFile = "qdrant-openapi.json";
    public const string PineconeDataFile = "pinecone-db-data-2026-04.json";
    public const string PineconeControlFile = "pinecone-db-control-2026-04.json";

    private static readonly Lazy<(VendorContracts? Found, string? Reason)> Located = new(Locate);

    private readonly Lazy<ContractDocument> _qdrant;
    private readonly Lazy<ContractDocument> _pineconeData;
    private readonly Lazy<ContractDocument> _pineconeControl;

    private VendorContracts(string directory)
    {
        Directory = directory;
        _qdrant = new(() => ContractDocument.Load(Path.Combine(directory, QdrantFile)));
        _pineconeData = new(() => ContractDocument.Load(Path.Combine(directory, PineconeDataFile)));
        _pineconeControl = new(() => ContractDocument.Load(Path.Combine(directory, PineconeControlFile)));
    }

    /// <summary>The folder the documents were found in.</summary>
    public string Directory { get; }

    /// <summary>Qdrant's REST API (OpenAPI 3.0.1).</summary>
    public ContractDocument Qdrant => _qdrant.Value;

    /// <summary>Pinecone's data plane, API version 2026-04 (list, fetch, upsert, describe_index_stats, …).</summary>
    public ContractDocument PineconeData => _pineconeData.Value;

    /// <summary>Pinecone's control plane, API version 2026-04 (indexes).</summary>
    public ContractDocument PineconeControl => _pineconeControl.Value;

    /// <summary>Why contract tests are skipped, or null when the documents were found.</summary>
    public static string? SkipReason => Located.Value.Reason;

    public static bool IsAvailable => Located.Value.Found != null;

    /// <summary>The documents, or false when the folder is absent (then <see cref="SkipReason"/> says where it was looked for).</summary>
    public static bool TryLoad([NotNullWhen(true)] out VendorContracts? contracts)
    {
        contracts = Located.Value.Found;
        return contracts != null;
    }

    /// <summary>The documents; throws when absent. For tests marked <see cref="ContractFactAttribute"/>.</summary>
    public static VendorContracts Load() =>
        Located.Value.Found ?? throw new InvalidOperationException(Located.Value.Reason);

    /// <summary>
    /// A check for a Qdrant stand-in or client. Beyond the document, it requires <c>result</c> and
    /// <c>status</c> in every 2xx body whose schema has them: Qdrant always sends both, its document does
    /// not mark them required. One allowance: <see cref="QdrantPlainText401"/>.
    /// </summary>
    public ContractCheck QdrantCheck() => new(Qdrant)
    {
        RequiredOnSuccess = ["result", "status"],
        BodyAllowances = [QdrantPlainText401],
    };

    /// <summary>
    /// Qdrant answers a missing or wrong API key with 401 and a plain-text message ("Must provide an API key
    /// or an Authorization bearer token", "Invalid API key or JWT") and no <c>Content-Type</c>: its auth
    /// middleware (src/actix/auth.rs) answers <c>HttpResponse::Unauthorized().body(message)</c>, which sets no
    /// media type, before any REST handler runs; the document gives the JSON <c>ErrorResponse</c> for every 4XX.
    /// Reported from real Qdrant; the stand-in copies it. Only a 401 without a Content-Type whose body is not
    /// JSON passes; every other status and body is checked as documented. (A read-only key used for a write
    /// gets 403 the same way; add that when a stand-in answers it.)
    /// </summary>
    public static ContractBodyAllowance QdrantPlainText401 { get; } = new(401, null,
        "Qdrant's auth middleware answers 401 with a plain-text message and no Content-Type, not the JSON ErrorResponse its document gives for 4XX");

    /// <summary>A check for a Pinecone stand-in or client: data plane and control plane paths together.
    /// One allowance: <see cref="PineconeEmptyFetchValues"/>.</summary>
    public ContractCheck PineconeCheck() => new(PineconeData, PineconeControl)
    {
        ValueAllowances = [PineconeEmptyFetchValues],
    };

    /// <summary>
    /// A record of a sparse index has no dense values, and fetch answers it with <c>"values": []</c>, while the
    /// 2026-04 document gives <c>Vector.values</c> a minLength of 1 (read as an item count, so checked as
    /// <c>minItems</c>: see <see cref="ContractDocument"/>). That is what the project's Pinecone notes record of the
    /// real service (PineconeFetchParser: "sparse indexes answer "values": []"), and the stand-in answers so. Only
    /// that keyword, only in fetch answers; upserts sending empty values are still flagged.
    /// </summary>
    public static ContractValueAllowance PineconeEmptyFetchValues { get; } = new("GET", "/vectors/fetch", ContractDirection.Response,
        "#/components/schemas/Vector/properties/values/minItems",
        "Pinecone answers fetch for records of sparse indexes with \"values\": [], below the document's minLength of 1");

    /// <summary>
    /// Where the documents are: <paramref name="overrideDirectory"/> when given (the environment
    /// variable's value), else the first <c>shared/contracts</c> that holds them in a folder above
    /// <paramref name="baseDirectory"/>. False, with the reason to skip, when there is none.
    /// </summary>
    public static bool TryLocate(string baseDirectory, string? overrideDirectory, [NotNullWhen(true)] out string? directory, out string reason)
    {
        directory = null;
        if (!string.IsNullOrEmpty(overrideDirectory))
        {
            var full = Path.GetFullPath(overrideDirectory);
            if (File.Exists(Path.Combine(full, QdrantFile)))
            {
                directory = full;
                reason = "";
                return true;
            }
            reason = $"vendor contracts not found at {full} ({EnvironmentVariable}); contract tests skipped";
            return false;
        }

        string? repositoryRoot = null;
        for (var dir = new DirectoryInfo(baseDirectory); dir != null; dir = dir.Parent)
        {
            // shared/ is a sibling of the repository, so it is a child of one of our ancestors.
            var candidate = Path.Combine(dir.FullName, "shared", "contracts");
            if (File.Exists(Path.Combine(candidate, QdrantFile)))
            {
                directory = candidate;
                reason = "";
                return true;
            }
            if (repositoryRoot is null && (File.Exists(Path.Combine(dir.FullName, "VecMigrate.sln")) || Path.Exists(Path.Combine(dir.FullName, ".git"))))
            {
                repositoryRoot = dir.FullName;
            }
        }
        var expected = repositoryRoot != null
            ? Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "contracts"))
            : $"shared/contracts in any folder above {baseDirectory}";
        reason = $"vendor contracts not found at {expected} (set {EnvironmentVariable} to use another folder); contract tests skipped";
        return false;
    }

    private static (VendorContracts?, string?) Locate() =>
        TryLocate(AppContext.BaseDirectory, Environment.GetEnvironmentVariable(EnvironmentVariable), out var directory, out var reason)
            ? (new VendorContracts(directory), null)
            : (null, reason);
}
