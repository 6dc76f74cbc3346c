namespace VecMigrate.Engine.Records;

/// <summary>Which system a record came from.</summary>
public enum SourceKind : byte
{
    /// <summary>Records built from ordinary objects (hashtables, CSV rows, JSON).</summary>
    Objects = 0,
    Qdrant = 1,
    Pinecone = 2,
    Postgres = 3,
    Milvus = 4,
}

/// <summary>The similarity a vector space was built for; it picks the index operator class.</summary>
public enum DistanceMetric : byte
{
    Unknown = 0,
    Cosine = 1,
    Euclid = 2,
    Dot = 3,
    Manhattan = 4,
}

/// <summary>Which id kinds a source holds (or may hold).</summary>
[Flags]
public enum IdKinds : byte
{
    None = 0,
    Unsigned = 1,
    Uuid = 2,
    String = 4,
}

/// <summary>
/// One typed payload field of a source (a Postgres column, a Milvus scalar field): its name, the source's own type
/// name (Postgres: <c>int8</c>, <c>text</c>, <c>_int4</c> for arrays, <c>jsonb</c>…; Milvus: <c>Int64</c>, <c>VarChar</c>…),
/// whether it may be null, and for arrays the element type. Its values travel in the payload under its name.
/// </summary>
/// <param name="Name">The field's name.</param>
/// <param name="SourceType">The source's own type name.</param>
/// <param name="Nullable">Whether values may be null.</param>
/// <param name="ElementType">For arrays, the element type.</param>
public sealed record ScalarField(string Name, string SourceType, bool Nullable, string? ElementType = null);

/// <summary>One vector space of a source: the name records use for it, its shape and metric.</summary>
/// <param name="Name">The vector's name; "" for a source's single unnamed vector.</param>
/// <param name="Kind">Dense, sparse or multi.</param>
/// <param name="Dimension">Dense dimension (dense, multi); null for sparse or where unknown.</param>
/// <param name="Metric">The source's distance metric, where it has one.</param>
/// <param name="Datatype">The source's storage type ("float32", "float16", "uint8"), informational.</param>
public sealed record VectorField(string Name, VectorKind Kind, int? Dimension, DistanceMetric Metric = DistanceMetric.Unknown, string? Datatype = null);

/// <summary>
/// What a source knows of its records before the first arrives: id kinds, vector spaces, whether records
/// live in namespaces, and what its payload is called. Every record of one read shares one instance,
/// so a sink can create a table that fits all of them, not just the first.
/// </summary>
public sealed class SourceSchema
{
    public SourceSchema(SourceKind source, string name, IdKinds idKinds, IReadOnlyList<VectorField> vectors, bool hasNamespaces, string payloadName)
    {
        Source = source;
        Name = name;
        IdKinds = idKinds;
        Vectors = vectors;
        HasNamespaces = hasNamespaces;
        PayloadName = payloadName;
    }

    public SourceKind Source { get; }

    /// <summary>The collection, index or table name.</summary>
    public string Name { get; }

    /// <summary>The id kinds the source holds (or may hold).</summary>
    public IdKinds IdKinds { get; }

    public IReadOnlyList<VectorField> Vectors { get; }

    /// <summary>True where ids are unique only within a namespace (Pinecone).</summary>
    public bool HasNamespaces { get; }

    /// <summary>
    /// Where records have no single id of their own (a Postgres table with a composite primary key): the key's columns.
    /// Each record's id is then made of the key's values (<c>["a","1"]</c> as text, in key order), and the payload holds
    /// the key columns too, so nothing is lost when a target gives the records ids of its own (Milvus Auto ID); null
    /// where ids are the source's own.
    /// </summary>
    public IReadOnlyList<string>? KeyColumns { get; init; }

    /// <summary>
    /// True where records have no key at all (a Postgres table without a primary key): each id is where its row sits
    /// (<c>(block,offset)</c>), good for one read only. Only a target that gives records ids of its own can take them
    /// (Milvus Auto ID); the others refuse them before writing (<see cref="RefuseRowLocations"/>).
    /// </summary>
    public bool RowLocations { get; init; }

    /// <summary>Throws, naming <paramref name="target"/>, when <paramref name="schema"/> is of records without keys.</summary>
    public static void RefuseRowLocations(SourceSchema? schema, string target)
    {
        if (schema is { RowLocations: true })
        {
            throw new VecMigrateException(FailureKind.IncompatibleTarget, "TargetNeedsKey",
                $"{schema.Name} has no primary key, so its rows have no ids to keep: {target} needs ids (only a Milvus collection with Auto ID " +
                "gives rows ids of its own). Add a primary key to the table, or name a unique key column (-KeyColumn). Nothing was written.", target);
        }
    }

    /// <summary>"payload" for Qdrant, "metadata" for Pinecone, as the source calls it.</summary>
    public string PayloadName { get; }

    /// <summary>The payload's typed fields where the source has them (Postgres columns); null where payloads are free-form.</summary>
    public IReadOnlyList<ScalarField>? Fields { get; init; }

    public VectorField? FindVector(string name)
    {
        foreach (var v in Vectors)
        {
            if (string.Equals(v.Name, name, StringComparison.Ordinal)) return v;
        }
        return null;
    }
}
