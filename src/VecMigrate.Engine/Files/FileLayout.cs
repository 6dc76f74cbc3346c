using System.Globalization;
using System.Text;
using System.Text.Json;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>One vector space as a file keeps it: its name and shape, and the Parquet column(s) that hold it.</summary>
/// <param name="Field">The vector space (name, kind, dimension, metric) as the source described it.</param>
/// <param name="Column">The Parquet column: the list (dense), the list of lists (multi), or the indices list (sparse).</param>
/// <param name="ValuesColumn">For a sparse space, the Parquet column of its values; null otherwise.</param>
public sealed record FileVectorColumn(VectorField Field, string Column, string? ValuesColumn = null);

/// <summary>
/// What a VecMigrate file says about its records before the first one: the source's schema (dims, metrics, names, id
/// kinds), where the records came from, and which columns hold each vector space. Kept as JSON in a Parquet file's
/// key-value metadata (key <see cref="MetadataKey"/>) and in a JSONL file's first line, so that an import can create a
/// target as a direct copy from the source would.
/// </summary>
public sealed class FileLayout
{
    /// <summary>The Parquet key-value metadata key, and the JSONL header's marker property.</summary>
    public const string MetadataKey = "vecmigrate";

    /// <summary>What <see cref="MetadataKey"/> holds in a header (the end line holds "end").</summary>
    public const string HeaderMarker = "records";

    /// <summary>The layout version this build writes and reads.</summary>
    public const int Version = 1;

    public const string IdColumn = "id";
    public const string IdKindColumn = "id_kind";
    public const string NamespaceColumn = "namespace";
    public const string PayloadColumn = "payload";

    private FileLayout(SourceSchema? schema, RecordOrigin? origin, IdKinds idKinds, bool hasNamespaces, string payloadName, IReadOnlyList<FileVectorColumn> vectors)
    {
        Schema = schema;
        Origin = origin;
        IdKinds = idKinds;
        HasNamespaces = hasNamespaces;
        PayloadName = payloadName;
        Vectors = vectors;
    }

    /// <summary>The source's schema; null when the records were built from plain objects without one.</summary>
    public SourceSchema? Schema { get; }

    /// <summary>Where the records came from (never with credentials); null when the first record did not say.</summary>
    public RecordOrigin? Origin { get; }

    public IdKinds IdKinds { get; }

    public bool HasNamespaces { get; }

    public string PayloadName { get; }

    /// <summary>The vector spaces, in column order.</summary>
    public IReadOnlyList<FileVectorColumn> Vectors { get; }

    /// <summary>
    /// The layout for records like <paramref name="first"/>: its source schema's vector spaces when it has one, else
    /// its own vectors. Every later record must fit it (<see cref="Check"/>).
    /// </summary>
    public static FileLayout For(VectorRecord first)
    {
        ArgumentNullException.ThrowIfNull(first);
        IReadOnlyList<VectorField> fields = first.Schema?.Vectors
            ?? first.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => new VectorField(v.Key, v.Value.Kind, v.Value.Kind == VectorKind.Sparse ? null : v.Value.Length)).ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal) { IdColumn, IdKindColumn, NamespaceColumn, PayloadColumn };
        var columns = new List<FileVectorColumn>(fields.Count);
        foreach (var f in fields)
        {
            var column = Unique(f.Name.Length == 0 ? "vector" : "vector_" + Sanitize(f.Name), taken);
            columns.Add(f.Kind == VectorKind.Sparse
                ? new FileVectorColumn(f, Unique(column + "_indices", taken), Unique(column + "_values", taken))
                : new FileVectorColumn(f, column));
        }
        var kinds = first.Schema?.IdKinds ?? KindOf(first.Id);
        return new FileLayout(first.Schema, first.Origin, kinds, first.Schema?.HasNamespaces ?? first.Namespace is not null,
            first.Schema?.PayloadName ?? "payload", columns);
    }

    /// <summary>The layout of a file with no records and nothing known about them.</summary>
    public static FileLayout Empty { get; } = new(null, null, IdKinds.None, false, "payload", []);

    /// <summary>The vector space called <paramref name="name"/>, or null.</summary>
    public FileVectorColumn? Find(string name)
    {
        foreach (var v in Vectors)
        {
            if (string.Equals(v.Field.Name, name, StringComparison.Ordinal)) return v;
        }
        return null;
    }

    /// <summary>
    /// Why <paramref name="record"/> cannot be written into a file of this layout, or null when it can: a vector space
    /// the file has no column for, a vector of another kind or dimension, or a value that is not a number (NaN,
    /// infinity), which JSON cannot hold and no target takes.
    /// </summary>
    public string? Check(VectorRecord record)
    {
        foreach (var (name, value) in record.Vectors)
        {
            var column = Find(name);
            var shown = name.Length == 0 ? "the unnamed vector" : $"vector '{name}'";
            if (column is null)
            {
                return $"Record {record} has {shown}, which the file has no column for (it has {Describe()}): the file's vector spaces come from the first record's source schema.";
            }
            var f = column.Field;
            if (value.Kind != f.Kind) return $"Record {record} has {shown} as a {value.Kind} vector, but the file keeps it as {f.Kind}.";
            switch (value)
            {
                case DenseVector d:
                    if (f.Dimension is { } dim && d.Values.Length != dim) return $"Record {record} has {shown} of dimension {d.Values.Length}, not {dim}.";
                    if (!AllFinite(d.Values)) return $"Record {record} has {shown} holding NaN or infinity.";
                    break;
                case SparseVector s:
                    if (!AllFinite(s.Values)) return $"Record {record} has {shown} holding NaN or infinity.";
                    break;
                case MultiVector m:
                    foreach (var inner in m.Vectors)
                    {
                        if (f.Dimension is { } md && inner.Length != md) return $"Record {record} has {shown} with a vector of dimension {inner.Length}, not {md}.";
                        if (!AllFinite(inner)) return $"Record {record} has {shown} holding NaN or infinity.";
                    }
                    break;
            }
        }
        return null;
    }

    /// <summary>
    /// Why <paramref name="record"/>'s payload cannot go into a file, or null: it must be one JSON object in valid
    /// UTF-8 (the files keep it as text, and an import hands it on as it is).
    /// </summary>
    public static string? PayloadProblem(VectorRecord record)
    {
        if (record.Payload is not { } p) return null;
        var bytes = p.Utf8Json.Span;
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return $"Record {record} has a payload that is not valid UTF-8.";
        try
        {
            var reader = new Utf8JsonReader(bytes);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return $"Record {record} has a payload that is not a JSON object.";
            reader.Skip();
            if (reader.Read()) return $"Record {record} has a payload with more than one JSON value.";
        }
        catch (JsonException ex)
        {
            return $"Record {record} has a payload that is not JSON ({ex.Message}).";
        }
        return null;
    }

    private string Describe() => Vectors.Count == 0 ? "no vectors" : string.Join(", ", Vectors.Select(v => v.Field.Name.Length == 0 ? "the unnamed vector" : $"'{v.Field.Name}'"));

    private static bool AllFinite(float[] values)
    {
        foreach (var x in values)
        {
            if (!float.IsFinite(x)) return false;
        }
        return true;
    }

    private static IdKinds KindOf(PointId id) => id.Kind switch
    {
        PointIdKind.Unsigned => IdKinds.Unsigned,
        PointIdKind.Uuid => IdKinds.Uuid,
        _ => IdKinds.String,
    };

    // Column names stay plain (letters, digits, '_') so that DuckDB, pandas and Spark take them unquoted;
    // the vector's own name is kept in the layout.
    private static string Sanitize(string name)
    {
        var b = new StringBuilder(name.Length);
        foreach (var c in name) b.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return b.ToString();
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }

    // ---- the id kinds' names in files ----------------------------------------------------

    /// <summary>The id kind as files write it: u64, uuid or text.</summary>
    public static string KindName(PointIdKind kind) => kind switch
    {
        PointIdKind.Unsigned => "u64",
        PointIdKind.Uuid => "uuid",
        _ => "text",
    };

    /// <summary>Rebuilds an id from its text and kind name; false when they do not make one.</summary>
    public static bool TryParseId(string text, string kind, out PointId id)
    {
        id = default;
        switch (kind)
        {
            case "u64":
                if (text.Length == 0 || (text.Length > 1 && text[0] == '0') || !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
                id = PointId.FromUnsigned(n);
                return true;
            case "uuid":
                if (!Guid.TryParseExact(text, "D", out var g)) return false;
                id = PointId.FromUuid(g);
                return true;
            case "text":
                id = PointId.FromString(text);
                return true;
            default:
                return false;
        }
    }

    // ---- JSON ----------------------------------------------------------------------------

    /// <summary>Writes the layout as the properties of an open JSON object (the header's, or the metadata's).</summary>
    public void WriteProperties(Utf8JsonWriter w)
    {
        w.WriteString(MetadataKey, HeaderMarker);
        w.WriteNumber("version", Version);
        if (Schema is { } s)
        {
            w.WriteStartObject("schema");
            w.WriteString("source", s.Source.ToString());
            w.WriteString("name", s.Name);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("schema");
        }
        if (Origin is { } o)
        {
            w.WriteStartObject("origin");
            w.WriteString("source", o.Source.ToString());
            w.WriteString("endpoint", o.Endpoint);
            w.WriteString("container", o.Container);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("origin");
        }
        w.WriteStartArray("idKinds");
        if (IdKinds.HasFlag(IdKinds.Unsigned)) w.WriteStringValue("u64");
        if (IdKinds.HasFlag(IdKinds.Uuid)) w.WriteStringValue("uuid");
        if (IdKinds.HasFlag(IdKinds.String)) w.WriteStringValue("text");
        w.WriteEndArray();
        w.WriteBoolean("hasNamespaces", HasNamespaces);
        w.WriteString("payloadName", PayloadName);
        w.WriteStartArray("vectors");
        foreach (var v in Vectors)
        {
            w.WriteStartObject();
            w.WriteString("name", v.Field.Name);
            w.WriteString("kind", v.Field.Kind.ToString().ToLowerInvariant());
            if (v.Field.Dimension is { } d) w.WriteNumber("dimension", d);
            else w.WriteNull("dimension");
            w.WriteString("metric", v.Field.Metric.ToString());
            if (v.Field.Datatype is { } dt) w.WriteString("datatype", dt);
            if (v.ValuesColumn is null)
            {
                w.WriteString("column", v.Column);
            }
            else
            {
                w.WriteString("indicesColumn", v.Column);
                w.WriteString("valuesColumn", v.ValuesColumn);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>The layout as one JSON object (the Parquet metadata value).</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteProperties(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Reads a layout from its JSON object; throws <see cref="FormatException"/> saying what is wrong (the caller names
    /// the file).
    /// </summary>
    public static FileLayout Parse(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(MetadataKey, out var marker) || marker.ValueKind != JsonValueKind.String || marker.GetString() != HeaderMarker)
        {
            throw new FormatException($"it has no \"{MetadataKey}\": \"{HeaderMarker}\" header");
        }
        var version = Required(e, "version").GetInt32();
        if (version != Version) throw new FormatException($"its layout version {version} is not {Version}, which this VecMigrate reads");
        var kinds = IdKinds.None;
        foreach (var k in Required(e, "idKinds").EnumerateArray())
        {
            kinds |= k.GetString() switch
            {
                "u64" => IdKinds.Unsigned,
                "uuid" => IdKinds.Uuid,
                "text" => IdKinds.String,
                var other => throw new FormatException($"'{other}' is not an id kind"),
            };
        }
        var hasNamespaces = Required(e, "hasNamespaces").GetBoolean();
        var payloadName = Required(e, "payloadName").GetString() ?? "payload";
        var vectors = new List<FileVectorColumn>();
        foreach (var v in Required(e, "vectors").EnumerateArray())
        {
            var kind = Required(v, "kind").GetString() switch
            {
                "dense" => VectorKind.Dense,
                "sparse" => VectorKind.Sparse,
                "multi" => VectorKind.Multi,
                var other => throw new FormatException($"'{other}' is not a vector kind"),
            };
            var dimension = v.TryGetProperty("dimension", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : (int?)null;
            var metric = Enum.TryParse<DistanceMetric>(Required(v, "metric").GetString(), out var m) ? m : DistanceMetric.Unknown;
            var datatype = v.TryGetProperty("datatype", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString() : null;
            var field = new VectorField(Required(v, "name").GetString() ?? "", kind, dimension, metric, datatype);
            vectors.Add(kind == VectorKind.Sparse
                ? new FileVectorColumn(field, Required(v, "indicesColumn").GetString()!, Required(v, "valuesColumn").GetString()!)
                : new FileVectorColumn(field, Required(v, "column").GetString()!));
        }
        RecordOrigin? origin = null;
        if (e.TryGetProperty("origin", out var o) && o.ValueKind == JsonValueKind.Object)
        {
            origin = new RecordOrigin(SourceOf(Required(o, "source")), Required(o, "endpoint").GetString() ?? "", Required(o, "container").GetString() ?? "");
        }
        SourceSchema? schema = null;
        if (e.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.Object)
        {
            schema = new SourceSchema(SourceOf(Required(s, "source")), Required(s, "name").GetString() ?? "", kinds,
                vectors.Select(v => v.Field).ToList(), hasNamespaces, payloadName);
        }
        return new FileLayout(schema, origin, kinds, hasNamespaces, payloadName, vectors);
    }

    /// <summary>Reads a layout from JSON text (the Parquet metadata value).</summary>
    public static FileLayout Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Parse(doc.RootElement);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"its layout is not JSON ({ex.Message})", ex);
        }
    }

    private static SourceKind SourceOf(JsonElement e) =>
        Enum.TryParse<SourceKind>(e.GetString(), out var k) ? k : throw new FormatException($"'{e.GetString()}' is not a source system");

    private static JsonElement Required(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v : throw new FormatException($"its layout has no \"{name}\"");
}
