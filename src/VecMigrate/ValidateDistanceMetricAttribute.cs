using System.Management.Automation;
using VecMigrate.Engine.Records;

namespace VecMigrate;

/// <summary>
/// The one check of a metric parameter (-Distance, -IndexMetric): a metric a target can build with, never
/// <see cref="DistanceMetric.Unknown"/> (which only a source can report).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateDistanceMetricAttribute : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The metrics a parameter takes.</summary>
    public static readonly DistanceMetric[] Allowed = [DistanceMetric.Cosine, DistanceMetric.Euclid, DistanceMetric.Dot, DistanceMetric.Manhattan];

    protected override void ValidateElement(object element)
    {
        if (element is DistanceMetric metric && Array.IndexOf(Allowed, metric) >= 0) return;
        throw new ValidationMetadataException($"'{element}' is not a metric to build with: use {string.Join(", ", Allowed)}.");
    }
}
