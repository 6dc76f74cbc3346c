using Npgsql;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Postgres;

/// <summary>Reads an existing table's columns and decides whether records of a plan can go into it.</summary>
internal static class PgTableInspector
{
    internal sealed record ColumnInfo(string Name, string TypeName, string? ElementTypeName, int TypeMod, bool NotNull, bool HasDefault, string Formatted);

    public static async Task<Dictionary<string, ColumnInfo>?> ReadColumnsAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        const string sql = """
            SELECT a.attname, t.typname, et.typname, a.atttypmod, a.attnotnull, a.atthasdef, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
            WHERE a.attrelid = to_regclass(@name) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("name", $"{PgTablePlan.Quote(schema)}.{PgTablePlan.Quote(table)}");
        var result = new Dictionary<string, ColumnInfo>(StringComparer.Ordinal);
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var info = new ColumnInfo(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
                    r.GetInt32(3), r.GetBoolean(4), r.GetBoolean(5), r.GetString(6));
                result[info.Name] = info;
            }
        }
        if (result.Count > 0) return result;
        // No columns: either no such table or a table without columns.
        await using var exists = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", conn);
        exists.Parameters.AddWithValue("name", $"{PgTablePlan.Quote(schema)}.{PgTablePlan.Quote(table)}");
        return (bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))! ? result : null;
    }

    /// <summary>
    /// Fits <paramref name="wanted"/> onto the existing columns: the result writes the same values in the
    /// existing table's types (e.g. halfvec where the table has halfvec). Throws
    /// <c>PgTableIncompatible</c> naming every problem when the table cannot take the records.
    /// </summary>
    public static PgTablePlan Reconcile(PgTablePlan wanted, Dictionary<string, ColumnInfo> columns, IdKinds sourceIdKinds)
    {
        var problems = new List<string>();
        var idType = wanted.IdType;
        if (!columns.TryGetValue(wanted.IdColumn, out var id))
        {
            problems.Add($"it has no \"{wanted.IdColumn}\" column");
        }
        else
        {
            switch (id.TypeName)
            {
                case "numeric":
                    // typmod = ((precision << 16) | scale) + 4; -1 = unconstrained.
                    if (id.TypeMod >= 0)
                    {
                        var precision = (id.TypeMod - 4) >> 16;
                        var scale = (id.TypeMod - 4) & 0xFFFF;
                        if (precision < 20 || scale != 0) problems.Add($"its id column is {id.Formatted}, which cannot hold every unsigned 64-bit id (numeric(20,0) can)");
                    }
                    idType = PgIdType.Numeric;
                    break;
                case "int8": idType = PgIdType.BigInt; break;
                case "uuid": idType = PgIdType.Uuid; break;
                case "text" or "varchar" or "bpchar": idType = PgIdType.Text; break;
                default: problems.Add($"its id column is of type {id.Formatted}, which cannot hold the ids"); break;
            }
            var fits = idType switch
            {
                PgIdType.Numeric or PgIdType.BigInt => (sourceIdKinds & ~IdKinds.Unsigned) == 0,
                PgIdType.Uuid => (sourceIdKinds & ~IdKinds.Uuid) == 0,
                _ => true,
            };
            if (!fits && problems.Count == 0) problems.Add($"its id column is {id.Formatted} but the source's ids are {sourceIdKinds}");
        }

        if (wanted.HasNamespace && !columns.ContainsKey(PgTablePlan.NamespaceColumnName))
        {
            problems.Add($"it has no \"{PgTablePlan.NamespaceColumnName}\" column for the records' namespaces");
        }

        var vectors = new List<PgVectorColumn>();
        foreach (var v in wanted.VectorColumns)
        {
            if (!columns.TryGetValue(v.Column, out var c))
            {
                problems.Add($"it has no column \"{v.Column}\" for vector '{v.VectorName}'");
                continue;
            }
            var dim = c.TypeMod >= 0 ? c.TypeMod : (int?)null;
            PgVectorStorage? storage = (v.Kind, c.TypeName, c.ElementTypeName) switch
            {
                (VectorKind.Dense, "vector", _) => PgVectorStorage.Vector,
                (VectorKind.Dense, "halfvec", _) => PgVectorStorage.HalfVec,
                (VectorKind.Dense, _, "float4") => PgVectorStorage.RealArray,
                (VectorKind.Sparse, "sparsevec", _) => PgVectorStorage.SparseVec,
                (VectorKind.Multi, _, "vector") => PgVectorStorage.VectorArray,
                (VectorKind.Multi, _, "halfvec") => PgVectorStorage.HalfVecArray,
                _ => null,
            };
            if (storage is null)
            {
                problems.Add($"column \"{v.Column}\" is {c.Formatted}, which cannot hold {v.Kind.ToString().ToLowerInvariant()} vector '{v.VectorName}'");
                continue;
            }
            if (storage == PgVectorStorage.RealArray) dim = null; // real[] has no dimension; each record's is checked as it comes
            if (v.Kind != VectorKind.Sparse && dim is { } d && v.Dimension is { } want && d != want)
            {
                problems.Add($"column \"{v.Column}\" is {c.Formatted} but vector '{v.VectorName}' has {want} dimensions");
                continue;
            }
            vectors.Add(new PgVectorColumn(v.Column, v.VectorName, storage.Value, dim ?? (v.Kind == VectorKind.Sparse ? v.Dimension : null)));
        }

        foreach (var t in wanted.TypedColumns)
        {
            if (!columns.TryGetValue(t.Column, out var c)) problems.Add($"it has no column \"{t.Column}\" for field '{t.Field}'");
            else if (TypeNameOf(t.Type) != c.TypeName && !(t.Type == Records.ColumnType.Text && c.TypeName is "varchar" or "bpchar"))
            {
                problems.Add($"column \"{t.Column}\" is {c.Formatted}, not {Pipeline.RecordShaper.SqlName(t.Type)}");
            }
        }

        string? payload = null;
        if (wanted.PayloadColumn is { } p)
        {
            if (!columns.TryGetValue(p, out var c)) problems.Add($"it has no \"{p}\" column for the payload");
            else if (c.TypeName != "jsonb") problems.Add($"column \"{p}\" is {c.Formatted}, not jsonb");
            else payload = p;
        }

        var written = new HashSet<string>(wanted.CopyColumns, StringComparer.Ordinal);
        foreach (var c in columns.Values)
        {
            if (c.NotNull && !c.HasDefault && !written.Contains(c.Name))
            {
                problems.Add($"column \"{c.Name}\" is NOT NULL without a default, and the records have no value for it");
            }
        }

        if (problems.Count > 0)
        {
            throw new VecMigrateException(FailureKind.IncompatibleTarget, "PgTableIncompatible",
                $"Table {wanted.DisplayName} exists but cannot take these records: {string.Join("; ", problems)}. Nothing was written.",
                wanted.DisplayName);
        }
        return new PgTablePlan(wanted.Schema, wanted.Table, idType, wanted.HasNamespace, vectors, payload, exists: true, comment: null,
            wanted.IdColumn, wanted.TypedColumns);
    }

    private static string TypeNameOf(Records.ColumnType t) => t switch
    {
        Records.ColumnType.Text => "text",
        Records.ColumnType.Integer => "int4",
        Records.ColumnType.BigInt => "int8",
        Records.ColumnType.Real => "float4",
        Records.ColumnType.Double => "float8",
        Records.ColumnType.Numeric => "numeric",
        Records.ColumnType.Boolean => "bool",
        Records.ColumnType.Timestamptz => "timestamptz",
        Records.ColumnType.Date => "date",
        Records.ColumnType.Uuid => "uuid",
        Records.ColumnType.Jsonb => "jsonb",
        Records.ColumnType.TextArray => "_text",
        Records.ColumnType.IntegerArray => "_int4",
        Records.ColumnType.BigIntArray => "_int8",
        Records.ColumnType.DoubleArray => "_float8",
        _ => "?",
    };
}
