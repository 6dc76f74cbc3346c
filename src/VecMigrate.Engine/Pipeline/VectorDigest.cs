using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Pipeline;

/// <summary>
/// An order-independent fingerprint of a set of records, for proving that a target holds exactly the
/// source's records. Each record is hashed in a canonical form (namespace, id, vectors bit for bit,
/// payload as canonical JSON); the hashes are summed per bucket of the record key, so two reads in
/// different orders (Qdrant's id order, a Postgres key order) give the same digest, and memory stays
/// at a few kilobytes however many records pass. Where digests differ, the differing buckets say where
/// to look; a second read of just those buckets with <see cref="Detailed"/> names the records.
/// </summary>
public sealed class VectorDigest
{
    /// <summary>Buckets by record key; a power of two.</summary>
    public const int BucketCount = 1024;

    private readonly ulong[] _lo = new ulong[BucketCount];
    private readonly ulong[] _hi = new ulong[BucketCount];
    private readonly long[] _counts = new long[BucketCount];
    private readonly HashSet<int>? _detailBuckets;
    private readonly Dictionary<string, string>? _detail;

    /// <param name="detailBuckets">When given, only records in these buckets count, and each one's hash is kept by key.</param>
    /// <param name="options">What is normalized or left out before hashing.</param>
    public VectorDigest(IEnumerable<int>? detailBuckets = null, DigestOptions? options = null)
    {
        Options = options ?? new DigestOptions();
        if (detailBuckets != null)
        {
            _detailBuckets = new HashSet<int>(detailBuckets);
            _detail = new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    public DigestOptions Options { get; }

    public long Count { get; private set; }

    /// <summary>Per record key ("namespace/id"), the record's hash; only with detail buckets.</summary>
    public IReadOnlyDictionary<string, string>? Detailed => _detail;

    /// <summary>The whole digest as hex: equal digests mean equal record sets (up to a 128-bit hash collision).</summary>
    public string Value
    {
        get
        {
            ulong lo = 0, hi = 0;
            for (var b = 0; b < BucketCount; b++) Add(ref lo, ref hi, _lo[b], _hi[b]);
            return hi.ToString("x16", CultureInfo.InvariantCulture) + lo.ToString("x16", CultureInfo.InvariantCulture);
        }
    }

    public void Add(VectorRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Options.QdrantIds) record = AsQdrantPoint(record);
        var key = KeyOf(record);
        var bucket = BucketOf(key);
        if (_detailBuckets != null && !_detailBuckets.Contains(bucket)) return;
        Span<byte> hash = stackalloc byte[32];
        HashRecord(record, Options, hash);
        var lo = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        var hi = BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]);
        Add(ref _lo[bucket], ref _hi[bucket], lo, hi);
        _counts[bucket]++;
        Count++;
        if (_detail != null)
        {
            var h = Convert.ToHexString(hash[..16]);
            // A key seen twice is itself a difference: keep both so the comparison shows it.
            if (!_detail.TryAdd(key, h)) _detail[key] = _detail[key] + "+" + h;
        }
    }

    // The record under the id a Qdrant write gives it (UUIDv5 for a string id, the namespace folded in), without
    // the namespace, which Qdrant keeps only in the payload.
    internal static VectorRecord AsQdrantPoint(VectorRecord r) =>
        r.Id.Kind != PointIdKind.String && string.IsNullOrEmpty(r.Namespace)
            ? r
            : new VectorRecord(Qdrant.QdrantPointIds.ToQdrant(r.Id, r.Namespace), r.Vectors, r.Payload);

    /// <summary>One record's key and hash (as a detailed digest keeps them), under <paramref name="options"/>.</summary>
    internal static (string Key, string Hash) HashOf(VectorRecord record, DigestOptions options)
    {
        if (options.QdrantIds) record = AsQdrantPoint(record);
        var key = KeyOf(record);
        Span<byte> hash = stackalloc byte[32];
        HashRecord(record, options, hash);
        return (key, Convert.ToHexString(hash[..16]));
    }

    /// <summary>Compares two digests: equal, or which buckets differ.</summary>
    public static DigestComparison Compare(VectorDigest source, VectorDigest target)
    {
        var differing = new List<int>();
        for (var b = 0; b < BucketCount; b++)
        {
            if (source._lo[b] != target._lo[b] || source._hi[b] != target._hi[b] || source._counts[b] != target._counts[b]) differing.Add(b);
        }
        List<string>? missing = null, extra = null, changed = null;
        if (source._detail != null && target._detail != null)
        {
            missing = source._detail.Keys.Where(k => !target._detail.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            extra = target._detail.Keys.Where(k => !source._detail.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            changed = source._detail.Where(kv => target._detail.TryGetValue(kv.Key, out var t) && t != kv.Value).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        }
        return new DigestComparison(differing.Count == 0 && source.Count == target.Count, source.Count, target.Count, differing, missing, extra, changed);
    }

    /// <summary>"namespace/id" for records with a namespace, else the id; ids keep their kind ("u:42", "g:uuid", "s:text").</summary>
    public static string KeyOf(VectorRecord r)
    {
        var kind = r.Id.Kind switch { PointIdKind.Unsigned => "u:", PointIdKind.Uuid => "g:", _ => "s:" };
        return string.IsNullOrEmpty(r.Namespace) ? kind + r.Id : r.Namespace + "/" + kind + r.Id;
    }

    public static int BucketOf(string key)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), h);
        return (int)(BinaryPrimitives.ReadUInt32LittleEndian(h) & (BucketCount - 1));
    }

    private static void Add(ref ulong lo, ref ulong hi, ulong addLo, ulong addHi)
    {
        var sum = lo + addLo;
        hi += addHi + (sum < lo ? 1UL : 0UL);
        lo = sum;
    }

    private static void HashRecord(VectorRecord r, DigestOptions options, Span<byte> hash)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[8];
        sha.AppendData(Encoding.UTF8.GetBytes(KeyOf(r)));
        sha.AppendData([0]);
        foreach (var name in r.Vectors.Keys.Order(StringComparer.Ordinal))
        {
            if (options.IgnoreVectors.Contains(name)) continue;
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            sha.AppendData([0, (byte)r.Vectors[name].Kind]);
            switch (r.Vectors[name])
            {
                case DenseVector d:
                    AppendFloats(sha, options.NormalizeDense ? VectorMath.Normalize(d.Values) : d.Values);
                    break;
                case MultiVector m:
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, m.Vectors.Length);
                    sha.AppendData(scratch[..4]);
                    foreach (var v in m.Vectors) AppendFloats(sha, v);
                    break;
                case SparseVector s:
                    // Sorted by index; explicit zeros are the same vector as absent indices.
                    foreach (var (i, v) in s.Indices.Zip(s.Values).Where(p => p.Second != 0).OrderBy(p => p.First))
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(scratch, i);
                        BinaryPrimitives.WriteSingleLittleEndian(scratch[4..], v);
                        sha.AppendData(scratch);
                    }
                    break;
            }
        }
        sha.AppendData([1]);
        if (r.Payload is { } p && !options.IgnorePayload)
        {
            using var doc = JsonDocument.Parse(p.Utf8Json);
            var sb = new StringBuilder();
            Canonical(doc.RootElement, sb, options.IgnorePayloadFields, top: true);
            sha.AppendData(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        sha.GetHashAndReset(hash);
    }

    private static void AppendFloats(IncrementalHash sha, float[] values)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(buf, values.Length);
        sha.AppendData(buf);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Canonical JSON: keys sorted, numbers by value (1.0 = 1 = 1e0), strings as they are.</summary>
    private static void Canonical(JsonElement e, StringBuilder sb, IReadOnlySet<string> ignore, bool top)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                foreach (var p in e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (top && ignore.Contains(p.Name)) continue;
                    sb.Append(JsonSerializer.Serialize(p.Name)).Append(':');
                    Canonical(p.Value, sb, ignore, top: false);
                    sb.Append(',');
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                foreach (var x in e.EnumerateArray())
                {
                    Canonical(x, sb, ignore, top: false);
                    sb.Append(',');
                }
                sb.Append(']');
                break;
            case JsonValueKind.Number:
                sb.Append(e.TryGetDecimal(out var d) ? (d / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : e.GetDouble().ToString("R", CultureInfo.InvariantCulture));
                break;
            case JsonValueKind.String:
                sb.Append(JsonSerializer.Serialize(e.GetString()));
                break;
            default:
                sb.Append(e.GetRawText());
                break;
        }
    }
}

/// <summary>What a digest leaves out or normalizes, for targets that change records by design.</summary>
public sealed class DigestOptions
{
    /// <summary>Normalize dense vectors to unit length first, as Qdrant does for Cosine collections (<see cref="VectorMath.Normalize"/>).</summary>
    public bool NormalizeDense { get; init; }

    /// <summary>
    /// Hash each record under the point id a Qdrant write gives it (<see cref="Qdrant.QdrantPointIds.ToQdrant"/>) and
    /// without its namespace, so that a source with string ids or namespaces compares with the Qdrant collection it
    /// was written to (which needs the original-id and namespace payload fields ignored on both sides).
    /// </summary>
    public bool QdrantIds { get; init; }

    /// <summary>Leave the payload out.</summary>
    public bool IgnorePayload { get; init; }

    /// <summary>Top-level payload fields to leave out (e.g. a field a target adds, such as an original-id field).</summary>
    public IReadOnlySet<string> IgnorePayloadFields { get; init; } = new HashSet<string>();

    /// <summary>Vectors to leave out, by name.</summary>
    public IReadOnlySet<string> IgnoreVectors { get; init; } = new HashSet<string>();
}

/// <summary>The outcome of comparing two digests.</summary>
public sealed record DigestComparison(bool Equal, long SourceCount, long TargetCount, IReadOnlyList<int> DifferingBuckets,
    IReadOnlyList<string>? Missing, IReadOnlyList<string>? Extra, IReadOnlyList<string>? Changed);
