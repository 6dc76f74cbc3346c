using System.Text;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>How the id column stores ids.</summary>
public enum PgIdType
{
    /// <summary><c>numeric(20,0)</c>: every unsigned 64-bit id exactly, including those above 2^63-1.</summary>
    Numeric,
    /// <summary><c>bigint</c>: unsigned ids up to 2^63-1; larger ones are refused, never wrapped.</summary>
    BigInt,
    /// <summary><c>uuid</c>.</summary>
    Uuid,
    /// <summary><c>text</c>: any id; integers in decimal, UUIDs lower-case hyphenated, strings as they are.</summary>
    Text,
}

/// <summary>How a vector column stores its values.</summary>
public enum PgVectorStorage
{
    Vector,
    HalfVec,
    SparseVec,
    VectorArray,
    HalfVecArray,
    /// <summary>Plain <c>real[]</c> for a dense vector (Postgres without pgvector).</summary>
    RealArray,
}

/// <summary>One vector column: which of a record's vectors it holds, and how.</summary>
/// <param name="Column">The column's name.</param>
/// <param name="VectorName">The record's vector name ("" for the unnamed vector).</param>
/// <param name="Storage">The column type.</param>
/// <param name="Dimension">The dense dimension, or the sparsevec dimension; null where the column has no typmod.</param>
public sealed record PgVectorColumn(string Column, string VectorName, PgVectorStorage Storage, int? Dimension)
{
    public VectorKind Kind => Storage switch
    {
        PgVectorStorage.SparseVec => VectorKind.Sparse,
        PgVectorStorage.VectorArray or PgVectorStorage.HalfVecArray => VectorKind.Multi,
        _ => VectorKind.Dense,
    };

    public string SqlType => Storage switch
    {
        PgVectorStorage.Vector => Dimension is { } d ? $"vector({d})" : "vector",
        PgVectorStorage.HalfVec => Dimension is { } d ? $"halfvec({d})" : "halfvec",
        PgVectorStorage.SparseVec => Dimension is { } d ? $"sparsevec({d})" : "sparsevec",
        PgVectorStorage.VectorArray => Dimension is { } d ? $"vector({d})[]" : "vector[]",
        PgVectorStorage.HalfVecArray => Dimension is { } d ? $"halfvec({d})[]" : "halfvec[]",
        PgVectorStorage.RealArray => "real[]",
        _ => throw new InvalidOperationException(),
    };
}

/// <summary>
/// The table a write goes into: its columns, how each record maps onto them, and the DDL that makes
/// it when it does not exist yet.
/// </summary>
public sealed class PgTablePlan
{
    public const string IdColumnName = "id";
    public const string NamespaceColumnName = "namespace";
    public const string DefaultVectorColumnName = "embedding";

    internal PgTablePlan(string schema, string table, PgIdType idType, bool hasNamespace,
        IReadOnlyList<PgVectorColumn> vectors, string? payloadColumn, bool exists, string? comment,
        string idColumn = IdColumnName, IReadOnlyList<ColumnSpec>? typedColumns = null)
    {
        IdColumn = idColumn;
        TypedColumns = typedColumns ?? [];
        Schema = schema;
        Table = table;
        IdType = idType;
        HasNamespace = hasNamespace;
        VectorColumns = vectors;
        PayloadColumn = payloadColumn;
        Exists = exists;
        Comment = comment;
    }

    public string Schema { get; }
    public string Table { get; }
    public PgIdType IdType { get; }
    public bool HasNamespace { get; }
    public IReadOnlyList<PgVectorColumn> VectorColumns { get; }

    /// <summary>The jsonb column for payload or metadata; null when the table keeps none.</summary>
    public string? PayloadColumn { get; }

    /// <summary>The id column's name ("id" unless ConvertTo-PgVectorRecord chose another).</summary>
    public string IdColumn { get; }

    /// <summary>Typed columns made from payload fields (ConvertTo-PgVectorRecord), written after the vector columns.</summary>
    public IReadOnlyList<ColumnSpec> TypedColumns { get; }

    /// <summary>True when the table is already there (its shape was checked).</summary>
    public bool Exists { get; internal set; }

    internal string? Comment { get; }

    /// <summary>schema.table, both quoted.</summary>
    public string QualifiedName => $"{Quote(Schema)}.{Quote(Table)}";

    /// <summary>schema.table as a person reads it (for messages).</summary>
    public string DisplayName => $"{Schema}.{Table}";

    public string IdSqlType => IdType switch
    {
        PgIdType.Numeric => "numeric(20,0)",
        PgIdType.BigInt => "bigint",
        PgIdType.Uuid => "uuid",
        _ => "text",
    };

    /// <summary>The key columns: (namespace, id) or (id).</summary>
    public IReadOnlyList<string> KeyColumns => HasNamespace ? [NamespaceColumnName, IdColumn] : [IdColumn];

    /// <summary>True when some column needs pgvector.</summary>
    public bool NeedsPgvector => VectorColumns.Any(v => v.Storage != PgVectorStorage.RealArray);

    /// <summary>The COPY column list, in the order rows are written.</summary>
    public IReadOnlyList<string> CopyColumns
    {
        get
        {
            var cols = new List<string> { IdColumn };
            if (HasNamespace) cols.Add(NamespaceColumnName);
            cols.AddRange(VectorColumns.Select(v => v.Column));
            cols.AddRange(TypedColumns.Select(c => c.Column));
            if (PayloadColumn != null) cols.Add(PayloadColumn);
            return cols;
        }
    }

    public string CopyCommand => CopyInto(QualifiedName);

    internal string CopyInto(string target) =>
        $"COPY {target} ({string.Join(", ", CopyColumns.Select(Quote))}) FROM STDIN (FORMAT BINARY)";

    /// <summary>The statements that create the table (empty when it exists).</summary>
    public IReadOnlyList<string> Ddl
    {
        get
        {
            if (Exists) return [];
            var sb = new StringBuilder();
            sb.Append("CREATE TABLE ").Append(QualifiedName).Append(" (\n");
            sb.Append("    ").Append(Quote(IdColumn)).Append(' ').Append(IdSqlType).Append(" NOT NULL");
            if (IdType == PgIdType.Numeric) sb.Append(" CHECK (").Append(Quote(IdColumn)).Append(" >= 0)");
            if (HasNamespace) sb.Append(",\n    ").Append(Quote(NamespaceColumnName)).Append(" text NOT NULL DEFAULT ''");
            foreach (var v in VectorColumns) sb.Append(",\n    ").Append(Quote(v.Column)).Append(' ').Append(v.SqlType);
            foreach (var c in TypedColumns) sb.Append(",\n    ").Append(Quote(c.Column)).Append(' ').Append(Pipeline.RecordShaper.SqlName(c.Type));
            if (PayloadColumn != null) sb.Append(",\n    ").Append(Quote(PayloadColumn)).Append(" jsonb");
            sb.Append(",\n    PRIMARY KEY (");
            if (HasNamespace) sb.Append(Quote(NamespaceColumnName)).Append(", ");
            sb.Append(Quote(IdColumn)).Append(")\n)");
            var ddl = new List<string> { sb.ToString() };
            if (Comment != null) ddl.Add($"COMMENT ON TABLE {QualifiedName} IS {QuoteLiteral(Comment)}");
            return ddl;
        }
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string QuoteLiteral(string value) => "'" + value.Replace("'", "''") + "'";

    public PgVectorColumn? FindVectorColumn(string vectorName)
    {
        foreach (var c in VectorColumns)
        {
            if (string.Equals(c.VectorName, vectorName, StringComparison.Ordinal)) return c;
        }
        return null;
    }

    /// <summary>Which column a record's vector of this name goes into.</summary>
    public static string ColumnNameFor(string vectorName) =>
        vectorName.Length == 0 ? DefaultVectorColumnName : vectorName;

    /// <summary>
    /// Plans a new table for records of <paramref name="schema"/>. Id column: numeric(20,0) when the
    /// source has only unsigned ids, uuid when only UUIDs, text otherwise (strings, or a mix: integers
    /// and UUIDs stay distinct as text), unless <paramref name="idType"/> says.
    /// </summary>
    public static PgTablePlan ForSchema(string dbSchema, string table, SourceSchema schema, PgIdType? idType, int? sparseDimension,
        PgVectorType vectorType = PgVectorType.Vector, RowShape? shape = null)
    {
        var id = idType ?? schema.IdKinds switch
        {
            IdKinds.Unsigned => PgIdType.Numeric,
            IdKinds.Uuid => PgIdType.Uuid,
            _ => PgIdType.Text,
        };
        CheckIdType(id, schema.IdKinds, $"{dbSchema}.{table}");
        var vectors = new List<PgVectorColumn>();
        foreach (var f in schema.Vectors)
        {
            var column = shape?.VectorColumns.TryGetValue(f.Name, out var chosen) == true ? chosen : ColumnNameFor(f.Name);
            if (vectorType == PgVectorType.RealArray && f.Kind != VectorKind.Dense)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgRealArrayUnsupportedShape",
                    $"Vector '{f.Name}' is {f.Kind.ToString().ToLowerInvariant()}; only dense vectors can be stored as real[] (sparse and multivectors need pgvector).",
                    $"{dbSchema}.{table}");
            }
            vectors.Add((f.Kind, vectorType) switch
            {
                (VectorKind.Dense, PgVectorType.HalfVec) => new PgVectorColumn(column, f.Name, PgVectorStorage.HalfVec, f.Dimension),
                (VectorKind.Dense, PgVectorType.RealArray) => new PgVectorColumn(column, f.Name, PgVectorStorage.RealArray, f.Dimension),
                (VectorKind.Dense, _) => new PgVectorColumn(column, f.Name, PgVectorStorage.Vector, f.Dimension),
                (VectorKind.Multi, PgVectorType.HalfVec) => new PgVectorColumn(column, f.Name, PgVectorStorage.HalfVecArray, f.Dimension),
                (VectorKind.Multi, _) => new PgVectorColumn(column, f.Name, PgVectorStorage.VectorArray, f.Dimension),
                _ => new PgVectorColumn(column, f.Name, PgVectorStorage.SparseVec, sparseDimension),
            });
        }
        var comment = PgTableComment.Format(schema, vectors);
        var payload = shape?.Payload == PayloadRest.Drop ? null : shape?.PayloadColumn ?? schema.PayloadName;
        var plan = new PgTablePlan(dbSchema, table, id, schema.HasNamespaces, vectors, payload, exists: false, comment,
            shape?.IdColumn ?? IdColumnName, shape?.Columns);
        plan.CheckNames();
        return plan;
    }

    /// <summary>Plans a table from the first record, for records that carry no source schema.</summary>
    public static PgTablePlan ForRecord(string dbSchema, string table, VectorRecord record, PgIdType? idType, int? sparseDimension,
        PgVectorType vectorType = PgVectorType.Vector, RowShape? shape = null)
    {
        var fields = record.Vectors
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new VectorField(kv.Key, kv.Value.Kind, kv.Value.Kind == VectorKind.Sparse ? null : kv.Value.Length))
            .ToList();
        var kinds = record.Id.Kind switch
        {
            PointIdKind.Unsigned => IdKinds.Unsigned,
            PointIdKind.Uuid => IdKinds.Uuid,
            _ => IdKinds.String,
        };
        var schema = new SourceSchema(SourceKind.Objects, "objects", kinds, fields, record.Namespace != null, "payload");
        return ForSchema(dbSchema, table, schema, idType, sparseDimension, vectorType, shape);
    }

    private static void CheckIdType(PgIdType id, IdKinds kinds, string table)
    {
        var ok = id switch
        {
            PgIdType.Numeric or PgIdType.BigInt => (kinds & ~IdKinds.Unsigned) == 0,
            PgIdType.Uuid => (kinds & ~IdKinds.Uuid) == 0,
            _ => true,
        };
        if (!ok)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgIdTypeMismatch",
                $"The source's ids are {kinds}, which an id column of type {id} cannot hold in table {table}; use the id type Text (or leave it to be chosen).",
                table);
        }
    }

    private void CheckNames()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in CopyColumns)
        {
            // Postgres truncates identifiers longer than 63 bytes without a word: refuse instead.
            if (Encoding.UTF8.GetByteCount(c) > 63)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgColumnNameTooLong",
                    $"Column name '{c}' is longer than Postgres's 63-byte identifier limit (table {DisplayName}); Postgres would silently truncate it.",
                    DisplayName);
            }
            if (!seen.Add(c))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "PgColumnNameConflict",
                    $"Two values would share column '{c}' in table {DisplayName} (a vector named like the id, namespace or payload column).",
                    DisplayName);
            }
        }
        if (Encoding.UTF8.GetByteCount(Table) > 63)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "PgTableNameTooLong",
                $"Table name '{Table}' is longer than Postgres's 63-byte identifier limit.", DisplayName);
        }
    }
}
