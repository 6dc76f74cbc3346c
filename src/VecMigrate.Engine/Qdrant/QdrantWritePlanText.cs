using System.Text;

namespace VecMigrate.Engine.Qdrant;

/// <summary>What a planned Qdrant write would do, in words: the text of -WhatIf and of the confirmation prompt.</summary>
public static class QdrantWritePlanText
{
    /// <summary>Describes <paramref name="plan"/> (from <see cref="QdrantSink.PlanAsync"/>) at <paramref name="endpoint"/>. Never holds the API key.</summary>
    public static string Describe(QdrantTargetPlan plan, string endpoint, QdrantSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        sb.Append("Upsert points into Qdrant collection '").Append(plan.Collection).Append("' at ").Append(endpoint)
          .Append(", ").Append(options.BatchSize).Append(" points per request.").AppendLine();
        if (!plan.Exists)
        {
            sb.AppendLine(options.CreateCollection
                ? "The collection does not exist; it is created with:"
                : "The collection does not exist, and -NoCreate forbids creating it: the write would stop. It would need:");
        }
        else
        {
            sb.AppendLine(plan.Problems.Count == 0 ? "The collection exists and can take the records:" : "The collection exists but cannot take the records:");
        }
        foreach (var v in plan.Vectors)
        {
            sb.Append("  ").Append(v.Name.Length == 0 ? "(unnamed)" : v.Name).Append(": ").Append(v.IsMultivector ? "multivector " : "dense ")
              .Append(v.Size).Append(' ').AppendLine(v.DistanceName);
        }
        foreach (var s in plan.SparseVectors)
        {
            sb.Append("  ").Append(s.Name).Append(": sparse").AppendLine(s.Modifier is null ? "" : " " + s.Modifier);
        }
        foreach (var p in plan.Problems) sb.Append("  problem: ").AppendLine(p);
        foreach (var w in plan.Warnings) sb.Append("  warning: ").AppendLine(w);
        sb.Append("String ids become UUIDv5 with the original id in payload field '").Append(options.OriginalIdField)
          .Append("'; namespaces go into '").Append(options.NamespaceField).Append("'.");
        return sb.ToString();
    }
}
