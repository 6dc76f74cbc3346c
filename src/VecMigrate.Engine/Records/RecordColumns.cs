namespace VecMigrate.Engine.Records;

/// <summary>The SQL-level type of a typed column taken out of a payload.</summary>
public enum ColumnType
{
    Text,
    Integer,
    BigInt,
    Real,
    Double,
    Numeric,
    Boolean,
    Timestamptz,
    Date,
    Uuid,
    Jsonb,
    TextArray,
    IntegerArray,
    BigIntArray,
    DoubleArray,
}

/// <summary>One typed column: its name, type, and the payload field it is made from.</summary>
public sealed record ColumnSpec(string Column, ColumnType Type, string Field);

/// <summary>What the payload column keeps once typed columns are taken out.</summary>
public enum PayloadRest
{
    /// <summary>The fields that did not become columns stay in the jsonb column.</summary>
    Rest,
    /// <summary>The whole payload stays in the jsonb column, columns included.</summary>
    Keep,
    /// <summary>No jsonb column.</summary>
    Drop,
}

/// <summary>
/// The row shape ConvertTo-PgVectorRecord gives records, shared by every record of one conversion:
/// typed columns, and the names of the id, vector and payload columns.
/// </summary>
public sealed class RowShape
{
    public RowShape(IReadOnlyList<ColumnSpec> columns, PayloadRest payload, string idColumn = "id",
        IReadOnlyDictionary<string, string>? vectorColumns = null, string? payloadColumn = null)
    {
        Columns = columns;
        Payload = payload;
        IdColumn = idColumn;
        VectorColumns = vectorColumns ?? new Dictionary<string, string>(StringComparer.Ordinal);
        PayloadColumn = payloadColumn;
    }

    public IReadOnlyList<ColumnSpec> Columns { get; }

    public PayloadRest Payload { get; }

    public string IdColumn { get; }

    /// <summary>Column names chosen for vectors, by vector name; vectors not named here keep the default column.</summary>
    public IReadOnlyDictionary<string, string> VectorColumns { get; }

    /// <summary>The jsonb column's name; null keeps the source's ("payload", "metadata").</summary>
    public string? PayloadColumn { get; }
}

/// <summary>A record's typed column values, in <see cref="RowShape.Columns"/> order.</summary>
/// <param name="Shape">The shape shared by every record of the conversion.</param>
/// <param name="Values">
/// Per column: null for SQL NULL, else string, int, long, float, double, decimal, bool, DateTimeOffset,
/// DateOnly, Guid, a JSON text (for jsonb, as <see cref="JsonPayload"/>), string[], int[], long[] or double[].
/// </param>
public sealed record RecordColumns(RowShape Shape, object?[] Values);
