using System.Globalization;
using System.Text.Json;

namespace VecMigrate.Engine.Files;

/// <summary>
/// One part of a file split for parallel lanes, stored with the checkpoint as JSON so that every lane and worker
/// reads the same records for the same part: a range of Parquet row groups, <c>[First, End)</c>, or a range of bytes
/// of an uncompressed JSONL file, <c>[First, End)</c>, whose ends are line starts (the split aligns them), so that the
/// part holds the records whose lines start inside it.
/// </summary>
internal sealed record FilePart(FilePart.Unit Kind, long First, long End)
{
    public enum Unit
    {
        RowGroups,
        Bytes,
    }

    public bool IsEmpty => End <= First;

    private sealed record Stored(long[]? RowGroups, long[]? Bytes);

    public override string ToString() => JsonSerializer.Serialize(Kind == Unit.RowGroups
        ? new Stored([First, End], null)
        : new Stored(null, [First, End]));

    /// <summary>For descriptions: "row groups 2 to 4", "bytes 1024 to 9000", or "none".</summary>
    public string Describe() => Kind switch
    {
        _ when IsEmpty => Kind == Unit.RowGroups ? "no row groups" : "no bytes",
        Unit.RowGroups => string.Create(CultureInfo.InvariantCulture, $"row groups {First} to {End - 1}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"bytes {First} to {End - 1}"),
    };

    public static FilePart Parse(string text)
    {
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(text) ?? throw new JsonException("null");
            var (kind, range) = s switch
            {
                { RowGroups: { Length: 2 } g, Bytes: null } => (Unit.RowGroups, g),
                { Bytes: { Length: 2 } b, RowGroups: null } => (Unit.Bytes, b),
                _ => throw new JsonException("neither row groups nor bytes"),
            };
            if (range[0] < 0 || range[1] < range[0]) throw new JsonException("a range that ends before it starts");
            return new FilePart(kind, range[0], range[1]);
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionBoundsInvalid", $"'{text}' is not the bounds of a part of a file.", text, ex);
        }
    }
}
