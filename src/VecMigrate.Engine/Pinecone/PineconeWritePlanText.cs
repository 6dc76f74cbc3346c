using System.Text;

namespace VecMigrate.Engine.Pinecone;

/// <summary>What a planned Pinecone write would do, in words: the text of -WhatIf and of the confirmation prompt.</summary>
public static class PineconeWritePlanText
{
    /// <summary>Describes <paramref name="plan"/> (from <see cref="PineconeSink.PlanAsync"/>). Never holds the API key.</summary>
    public static string Describe(PineconeWritePlan plan, PineconeSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        sb.Append("Upsert vectors into Pinecone index '").Append(plan.IndexName).Append("' at ").Append(plan.IndexUrl.GetLeftPart(UriPartial.Authority))
          .Append(" (").Append(plan.VectorType).Append(", ").Append(plan.Dimension?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no")
          .Append(" dimensions, ").Append(plan.Metric).Append("), ").Append(options.BatchSize).Append(" records per request.").AppendLine();
        sb.Append("Namespace: ").AppendLine(options.Namespace is null ? "each record's own" : options.Namespace.Length == 0 ? "the default one" : $"'{options.Namespace}'");
        sb.Append("values from: ").AppendLine(plan.DenseVector is null ? "(none)" : plan.DenseVector.Length == 0 ? "the unnamed vector" : $"'{plan.DenseVector}'");
        sb.Append("sparseValues from: ").Append(plan.SparseVector is null ? "(none)" : $"'{plan.SparseVector}'");
        if (plan.LeftBehind.Count > 0) sb.AppendLine().Append("Left behind: ").Append(string.Join(", ", plan.LeftBehind.Select(n => $"'{n}'")));
        return sb.ToString();
    }
}
