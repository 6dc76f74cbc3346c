namespace VecMigrate.Engine.Records;

/// <summary>Vector arithmetic that must match what a target system does to the values it stores.</summary>
public static class VectorMath
{
    /// <summary>Rust's <c>f32::EPSILON</c> (2^-23), not .NET's <see cref="float.Epsilon"/> (the smallest subnormal).</summary>
    private const float RustF32Epsilon = 1.1920929e-7f;

    /// <summary>
    /// Scales <paramref name="vector"/> to unit length the way Qdrant stores vectors of a Cosine space: the sum of
    /// squares is accumulated in float32, element by element from the first; a vector whose sum of squares is below
    /// 2^-23 (all but zero) or within 1e-6 of 1 (already normalized) is returned unchanged; otherwise every element
    /// is divided (float32) by the square root of that sum. This is bit for bit Qdrant's portable path
    /// (<c>cosine_preprocess</c>); on x86-64 Qdrant uses SSE for 16 or more dimensions and AVX+FMA for 32 or more,
    /// which add the squares in another order, so a real server can differ from this in the last bits
    /// (see <see cref="NormalizationTolerance"/>).
    /// </summary>
    /// <returns>A new array (also when the values are unchanged).</returns>
    public static float[] Normalize(ReadOnlySpan<float> vector)
    {
        var sumOfSquares = 0f;
        foreach (var x in vector)
        {
            var square = x * x; // rounded to float32 before the add, as Rust does (no fused multiply-add)
            sumOfSquares += square;
        }
        var result = vector.ToArray();
        if (sumOfSquares < RustF32Epsilon || MathF.Abs(sumOfSquares - 1f) <= 1e-6f) return result;
        var length = MathF.Sqrt(sumOfSquares);
        for (var i = 0; i < result.Length; i++) result[i] /= length;
        return result;
    }

    /// <summary>
    /// The relative difference two correct float32 normalizations of one <paramref name="dimension"/>-dimensional
    /// vector can show per element when their sums of squares were added in different orders: n·2^-24 for the
    /// sum (and so at most that for its square root, which halves it), plus one rounding of the division.
    /// </summary>
    public static float NormalizationTolerance(int dimension) => (dimension + 2) * 5.9604645e-8f; // 2^-24
}
