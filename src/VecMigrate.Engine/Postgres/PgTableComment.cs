using System.Text.Json;
using System.Text.Json.Nodes;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>
/// The table comment VecMigrate leaves on a table it creates: where the data came from, which vector
/// each column holds and the source's id kinds and metrics, so that reading the table back gives the
/// records that went in (an unnamed vector stored as "embedding" is unnamed again; "42" in a text id
/// column of a Qdrant table is the integer id 42 again).
/// </summary>
internal static class PgTableComment
{
    private const string Prefix = "VecMigrate ";

    public static string Format(SourceSchema schema, IReadOnlyList<PgVectorColumn> columns)
    {
        var vectors = new JsonObject();
        foreach (var c in columns)
        {
            var metric = schema.FindVector(c.VectorName)?.Metric ?? DistanceMetric.Unknown;
            vectors[c.Column] = new JsonObject { ["name"] = c.VectorName, ["metric"] = metric.ToString() };
        }
        var doc = new JsonObject
        {
            ["source"] = schema.Source.ToString(),
            ["name"] = schema.Name,
            ["ids"] = schema.IdKinds.ToString(),
            ["vectors"] = vectors,
        };
        return Prefix + doc.ToJsonString();
    }

    public sealed record Parsed(SourceKind Source, string Name, IdKinds IdKinds, IReadOnlyDictionary<string, (string Name, DistanceMetric Metric)> Vectors);

    public static Parsed? TryParse(string? comment)
    {
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        try
        {
            var doc = JsonNode.Parse(comment[Prefix.Length..])!.AsObject();
            var vectors = new Dictionary<string, (string, DistanceMetric)>(StringComparer.Ordinal);
            foreach (var (col, v) in doc["vectors"]!.AsObject())
            {
                vectors[col] = ((string)v!["name"]!, Enum.Parse<DistanceMetric>((string)v["metric"]!));
            }
            return new Parsed(Enum.Parse<SourceKind>((string)doc["source"]!), (string)doc["name"]!,
                Enum.Parse<IdKinds>((string)doc["ids"]!), vectors);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null; // someone else's comment that happens to start like ours
        }
    }
}
