using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>
/// What a VecMigrate file holds (Get-VectorFileInfo, Export-VectorRecord's output): its records, the vector spaces
/// with their dimensions and metrics, the id kinds, and the source the records came from.
/// </summary>
public sealed class VectorFileInfo
{
    public VectorFileInfo(string path, FileFormat format, long records, long bytes, FileLayout layout, int rowGroups = 0)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Path = path;
        Format = format;
        Records = records;
        Bytes = bytes;
        Layout = layout;
        RowGroups = rowGroups;
    }

    public string Path { get; }

    public FileFormat Format { get; }

    public long Records { get; }

    public long Bytes { get; }

    /// <summary>Parquet row groups (0 for JSONL).</summary>
    public int RowGroups { get; }

    /// <summary>The layout the file was written with.</summary>
    public FileLayout Layout { get; }

    /// <summary>The system the records came from (Qdrant, Pinecone, Postgres, Objects).</summary>
    public SourceKind Source => Layout.Schema?.Source ?? Layout.Origin?.Source ?? SourceKind.Objects;

    /// <summary>The source's collection, index or table.</summary>
    public string? SourceName => Layout.Schema?.Name ?? Layout.Origin?.Container;

    /// <summary>Where the records were read: system, endpoint and container (never credentials).</summary>
    public string? Origin => Layout.Origin?.ToString();

    public IReadOnlyList<VectorField> Vectors => Layout.Vectors.Select(v => v.Field).ToList();

    /// <summary>The vector spaces in one line: <c>text dense(16) Cosine, bm25 sparse</c>.</summary>
    public string VectorSpaces => Layout.Vectors.Count == 0 ? "(none)" : string.Join(", ", Layout.Vectors.Select(v => Describe(v.Field)));

    /// <summary>The id kinds: u64, uuid, text.</summary>
    public string[] IdKinds
    {
        get
        {
            var k = Layout.IdKinds;
            var result = new List<string>();
            if (k.HasFlag(VecMigrate.Engine.Records.IdKinds.Unsigned)) result.Add("u64");
            if (k.HasFlag(VecMigrate.Engine.Records.IdKinds.Uuid)) result.Add("uuid");
            if (k.HasFlag(VecMigrate.Engine.Records.IdKinds.String)) result.Add("text");
            return result.ToArray();
        }
    }

    public bool HasNamespaces => Layout.HasNamespaces;

    private static string Describe(VectorField f)
    {
        var name = f.Name.Length == 0 ? "(unnamed)" : f.Name;
        var kind = f.Kind.ToString().ToLowerInvariant();
        var shape = f.Dimension is { } d ? $"{kind}({d})" : kind;
        return f.Metric == DistanceMetric.Unknown ? $"{name} {shape}" : $"{name} {shape} {f.Metric}";
    }

    /// <summary>
    /// Reads what <paramref name="path"/> holds. A Parquet file's count comes from its footer; a JSONL file is read
    /// through, which also checks it is whole.
    /// </summary>
    public static async Task<VectorFileInfo> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var reader = await FileRecordReader.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        var records = reader.Records ?? 0;
        if (reader.Records is null)
        {
            await foreach (var _ in reader.ReadAsync(null, cancellationToken).ConfigureAwait(false)) records++;
        }
        return new VectorFileInfo(reader.Path, reader.Format, records, reader.Bytes, reader.Layout, reader.RowGroups);
    }

    public override string ToString() => Path;
}
