namespace VecMigrate.Engine.Records;

/// <summary>The shape of one vector of a record.</summary>
public enum VectorKind : byte
{
    Dense = 1,
    Sparse = 2,
    Multi = 3,
}

/// <summary>One vector of a record: dense, sparse or multi. Values are kept bit for bit.</summary>
public abstract class VectorValue
{
    private protected VectorValue() { }

    public abstract VectorKind Kind { get; }

    /// <summary>The number of dense dimensions (dense, multi); for sparse vectors the number of non-zeros.</summary>
    public abstract int Length { get; }
}

/// <summary>A dense vector of float32 values.</summary>
public sealed class DenseVector : VectorValue
{
    public DenseVector(float[] values)
    {
        Values = values ?? throw new ArgumentNullException(nameof(values));
    }

    public float[] Values { get; }

    public override VectorKind Kind => VectorKind.Dense;

    public override int Length => Values.Length;

    public override string ToString() => $"dense[{Values.Length}]";
}

/// <summary>
/// A sparse vector: ascending unique zero-based indices and their values (Qdrant's and Pinecone's
/// sparse vectors use unsigned 32-bit indices).
/// </summary>
public sealed class SparseVector : VectorValue
{
    public SparseVector(uint[] indices, float[] values)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        if (indices.Length != values.Length)
        {
            throw new ArgumentException(
                $"A sparse vector needs as many values as indices ({indices.Length} indices, {values.Length} values).");
        }
        Indices = indices;
        Values = values;
    }

    public uint[] Indices { get; }

    public float[] Values { get; }

    public override VectorKind Kind => VectorKind.Sparse;

    public override int Length => Indices.Length;

    public override string ToString() => $"sparse[{Indices.Length} nnz]";
}

/// <summary>A multivector: several dense vectors of one dimension (ColBERT-style late interaction).</summary>
public sealed class MultiVector : VectorValue
{
    public MultiVector(float[][] vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        Vectors = vectors;
    }

    public float[][] Vectors { get; }

    public override VectorKind Kind => VectorKind.Multi;

    /// <summary>The dimension of the inner vectors (0 for an empty multivector).</summary>
    public override int Length => Vectors.Length == 0 ? 0 : Vectors[0].Length;

    public override string ToString() => $"multi[{Vectors.Length}×{Length}]";
}
