using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Milvus;

/// <summary>A Milvus scalar field a target collection gets for a source's typed field.</summary>
/// <param name="Name">The field's name.</param>
/// <param name="DataType">Milvus's data type name for <c>collections/create</c> (Int64, VarChar, Double…).</param>
/// <param name="Nullable">Whether the field may hold nulls.</param>
/// <param name="ElementType">For Array: the element's data type.</param>
/// <param name="MaxLength">For VarChar (and VarChar arrays): max_length.</param>
public sealed record MilvusScalarPlan(string Name, string DataType, bool Nullable, string? ElementType = null, int? MaxLength = null);

/// <summary>
/// How source types and metrics map to Milvus's (docs/milvus.md holds the table): Postgres columns per Zilliz's
/// "Migrate from PostgreSQL" guide, distances to metric types, and what cannot be expressed.
/// </summary>
public static partial class MilvusTypeMap
{
    /// <summary>VARCHAR length for text columns, dates and times, string ids: Milvus's largest.</summary>
    public const int TextLength = MilvusClient.MaxVarCharLength;

    /// <summary>An array field's capacity: Milvus's largest max_capacity.</summary>
    public const int ArrayCapacity = 4096;

    /// <summary>
    /// The Milvus field for a Postgres column (by its type name in pg_type), or null when the column has no typed
    /// counterpart: its values then go to the dynamic field, as JSON, unchanged.
    /// </summary>
    public static MilvusScalarPlan? FromPostgres(ScalarField column)
    {
        var name = column.Name;
        var nullable = column.Nullable;
        string? Scalar(string pg) => pg switch
        {
            "int8" => "Int64",
            "int4" => "Int32",
            "int2" => "Int16",
            "float8" => "Double",
            "float4" => "Float",
            "bool" => "Bool",
            "text" or "varchar" or "bpchar" or "date" or "time" or "timetz" or "timestamp" or "timestamptz" or "uuid" => "VarChar",
            "json" or "jsonb" => "JSON",
            _ => null,
        };
        if (column.ElementType is { } element && column.SourceType.StartsWith('_'))
        {
            var et = Scalar(element);
            if (et is null or "JSON") return null;
            return new MilvusScalarPlan(name, "Array", nullable, et, et == "VarChar" ? TextLength : null);
        }
        var t = Scalar(column.SourceType);
        return t is null ? null : new MilvusScalarPlan(name, t, nullable, null, t == "VarChar" ? TextLength : null);
    }

    /// <summary>A Milvus scalar field read from another Milvus collection keeps its type.</summary>
    public static MilvusScalarPlan? FromMilvus(ScalarField field) => field.SourceType switch
    {
        "Bool" or "Int8" or "Int16" or "Int32" or "Int64" or "Float" or "Double" or "JSON" => new MilvusScalarPlan(field.Name, field.SourceType, field.Nullable),
        "VarChar" => new MilvusScalarPlan(field.Name, "VarChar", field.Nullable, null, TextLength),
        "Array" when field.ElementType is { } e => new MilvusScalarPlan(field.Name, "Array", field.Nullable, e, e == "VarChar" ? TextLength : null),
        _ => null,
    };

    /// <summary>
    /// Milvus's metric type for a source's distance. Milvus's float vectors know COSINE, L2 and IP: Euclid is L2
    /// (Milvus ranks by squared L2, the same order), Dot is IP; Manhattan has no counterpart (null).
    /// </summary>
    public static string? MetricType(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine or DistanceMetric.Unknown => "COSINE",
        DistanceMetric.Euclid => "L2",
        DistanceMetric.Dot => "IP",
        _ => null,
    };

    public static DistanceMetric Metric(string? metricType) => metricType switch
    {
        "COSINE" => DistanceMetric.Cosine,
        "L2" => DistanceMetric.Euclid,
        "IP" => DistanceMetric.Dot,
        _ => DistanceMetric.Unknown,
    };

    /// <summary>Milvus field names: a letter or underscore, then letters, digits, underscores; 255 at most.</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,254}$")]
    public static partial Regex FieldName();

    /// <summary>A Milvus expression string literal: double quotes, with backslash and quote escaped.</summary>
    public static string StringLiteral(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            if (c is '\\' or '"') b.Append('\\');
            b.Append(c);
        }
        return b.Append('"').ToString();
    }

    /// <summary>Orders strings by their UTF-8 bytes, as Milvus compares VarChar keys.</summary>
    public static int CompareUtf8(string a, string b)
    {
        var ab = Encoding.UTF8.GetBytes(a);
        var bb = Encoding.UTF8.GetBytes(b);
        return ab.AsSpan().SequenceCompareTo(bb);
    }

    /// <summary>A sparse vector as Milvus's JSON has it: <c>{"index": value, …}</c> or <c>{"indices": […], "values": […]}</c>.</summary>
    public static SparseVector? ParseSparse(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) return null;
        if (v.TryGetProperty("indices", out var ix) && v.TryGetProperty("values", out var vs))
        {
            var pairs = ix.EnumerateArray().Zip(vs.EnumerateArray(), (i, x) => (I: i.GetUInt32(), V: x.GetSingle())).OrderBy(p => p.I).ToArray();
            return new SparseVector(pairs.Select(p => p.I).ToArray(), pairs.Select(p => p.V).ToArray());
        }
        var list = new List<(uint I, float V)>();
        foreach (var p in v.EnumerateObject())
        {
            if (!uint.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var i)) return null;
            list.Add((i, p.Value.GetSingle()));
        }
        list.Sort((x, y) => x.I.CompareTo(y.I));
        return new SparseVector(list.Select(p => p.I).ToArray(), list.Select(p => p.V).ToArray());
    }
}

/// <summary>
/// What VecMigrate notes in the description of a collection it creates, so that reading it back gives the records
/// that went in: the id kind (UUIDs are kept as VarChar(36)), which field holds the unnamed vector, and which
/// holds Pinecone namespaces. Collections made by others have none; their ids and vectors are read as they are.
/// </summary>
public sealed record MilvusMarker(string? Ids, string? UnnamedVector, string? NamespaceField)
{
    public const string Prefix = "VecMigrate ";

    public static MilvusMarker Parse(string? description)
    {
        if (description is null || !description.StartsWith(Prefix, StringComparison.Ordinal)) return new(null, null, null);
        try
        {
            using var doc = JsonDocument.Parse(description.AsMemory(Prefix.Length));
            var r = doc.RootElement;
            string? S(string n) => r.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return new(S("ids"), S("vector"), S("namespace"));
        }
        catch (JsonException)
        {
            return new(null, null, null);
        }
    }

    public override string ToString()
    {
        var o = new Dictionary<string, string>();
        if (Ids is not null) o["ids"] = Ids;
        if (UnnamedVector is not null) o["vector"] = UnnamedVector;
        if (NamespaceField is not null) o["namespace"] = NamespaceField;
        return Prefix + JsonSerializer.Serialize(o);
    }
}
