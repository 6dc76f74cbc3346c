using System.Text;

namespace VecMigrate.Engine.Postgres;

/// <summary>What a planned write would do, in words and statements: the text of -WhatIf and of the confirmation prompt.</summary>
public static class PgWritePlanText
{
    /// <summary>
    /// Describes a write planned by <see cref="PgVectorWriter.PlanAsync"/>: the target, the mode, the statements
    /// that would create the table, the indexes built after the load, and the checkpoint kept with each batch (when
    /// <paramref name="checkpoint"/> is named; <paramref name="resume"/>: it continues). Never holds a password.
    /// </summary>
    public static string Describe(PgTablePlan plan, PgWriteOptions options, IReadOnlyList<string> indexDdl, string? checkpoint = null, bool resume = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(indexDdl);
        var sb = new StringBuilder();
        sb.Append("Write records into ").Append(plan.DisplayName).Append(" on ").Append(PgConnections.Describe(options.ConnectionString))
          .Append(", mode ").Append(options.Mode).Append(", ").Append(options.BatchSize).Append(" records per batch.");
        sb.AppendLine();
        sb.AppendLine(options.Mode switch
        {
            PgWriteMode.Replace when resume && checkpoint is not null => "Replace, resumed: the rows already written stay.",
            PgWriteMode.Replace when plan.Exists => "Replace: every row of the existing table is deleted (TRUNCATE) in the first batch's transaction.",
            PgWriteMode.Upsert => "Upsert: a record whose key is already there updates that row.",
            PgWriteMode.Append => "Append: a record whose key is already there fails its batch.",
            _ => "The table is new, so nothing is replaced.",
        });
        if (plan.Exists)
        {
            sb.Append("The table exists and fits the records: columns ").AppendJoin(", ", plan.CopyColumns).AppendLine(".");
        }
        else
        {
            sb.AppendLine("Creates the table:");
            foreach (var ddl in plan.Ddl) sb.Append("  ").Append(ddl.Replace("\n", "\n  ", StringComparison.Ordinal)).AppendLine(";");
        }
        if (indexDdl.Count > 0)
        {
            sb.AppendLine("Then builds:");
            foreach (var ddl in indexDdl) sb.Append("  ").Append(ddl).AppendLine(";");
        }
        if (checkpoint is not null)
        {
            sb.Append(resume ? "Continues (or starts)" : "Records").Append(" checkpoint '").Append(checkpoint).Append("' in ")
              .Append(options.Schema).Append('.').Append(PgCheckpointStore.TableName).AppendLine(" with each batch.");
        }
        return sb.ToString().TrimEnd();
    }
}
