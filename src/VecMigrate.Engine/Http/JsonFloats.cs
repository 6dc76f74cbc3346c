using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VecMigrate.Engine.Http;

/// <summary>
/// Reads JSON arrays of numbers (vectors) straight from UTF-8 text into float32 values, bit for bit what a
/// correctly rounding parser (<see cref="float.Parse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider?)"/>) gives,
/// at a fraction of the cost of tokenizing them one by one with <c>Utf8JsonReader</c>.
/// </summary>
/// <remarks>
/// <para>Exactness. A number's digits become a 64-bit integer m and a decimal exponent e (value m·10^e). When
/// m &lt; 2^53 and |e| ≤ 22, both m and 10^|e| are exact doubles, so one IEEE multiplication or division gives the
/// correctly rounded double d of the exact value x (Clinger's fast path). Rounding d to float then equals rounding
/// x to float, except when d lands exactly on a midpoint between two adjacent floats: every such midpoint is a
/// double, and rounding to double is monotonic, so x and d lie on the same side of every midpoint unless d is one.
/// In the fast path's range (10^-22 ≤ |x| &lt; 2^53·10^22, inside float's normal range) a double is a float
/// midpoint exactly when its 29 mantissa bits below float precision are 1000…0; that case, and everything outside
/// the fast path (more than 19 significant digits, larger exponents), goes to the runtime's correctly rounding
/// parser. The tests compare both against it over many millions of values.</para>
/// <para>Strictness. The scanner accepts only what JSON allows (RFC 8259 numbers, commas, the four whitespace
/// characters). On anything else it gives up and the caller reads the array token by token with
/// <c>Utf8JsonReader</c>, which reports the error as it always did.</para>
/// </remarks>
internal static class JsonFloats
{
    /// <summary>The array is not a plain, valid array of finite float32 numbers (or the buffer was too small).</summary>
    public const int NotPlain = -1;

    /// <summary>The destination is too small: grow it and scan again.</summary>
    public const int TooSmall = -2;

    private const ulong Pow2_53 = 1UL << 53;

    // 10^0 .. 10^22 are exact doubles. (Spans over constant data, not static arrays: a method that is compiled
    // fully optimized at once, as ScanArray is, would otherwise check the class's initialization at every use.)
    private static ReadOnlySpan<double> Pow10 =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Scans the numbers of an array whose '[' ends just before <paramref name="start"/>, into
    /// <paramref name="dest"/>. Returns the index of the closing ']' with <paramref name="count"/> values written,
    /// <see cref="TooSmall"/> when <paramref name="dest"/> cannot hold them, or <see cref="NotPlain"/> when the text
    /// is anything but JSON numbers separated by commas (nested arrays, other values, bad syntax, out-of-range
    /// numbers): then nothing is known and the caller must read the array another way.
    /// </summary>
    public static int ScanArray(ReadOnlySpan<byte> json, int start, Span<float> dest, out int count)
    {
        count = 0;
        var pos = SkipWhitespace(json, start);
        if ((uint)pos >= (uint)json.Length) return NotPlain;
        if (json[pos] == (byte)']') return pos;
        var n = 0;
        while (true)
        {
            var end = ScanFraction(json, pos, out var value);
            if (end < 0) end = ScanNumber(json, pos, out value);
            if (end < 0) return NotPlain;
            if ((uint)n >= (uint)dest.Length) return TooSmall;
            dest[n++] = value;
            if ((uint)end < (uint)json.Length && json[end] == (byte)',')
            {
                pos = SkipWhitespace(json, end + 1);
                continue;
            }
            pos = SkipWhitespace(json, end);
            if ((uint)pos >= (uint)json.Length) return NotPlain;
            var b = json[pos];
            if (b == (byte)',')
            {
                pos = SkipWhitespace(json, pos + 1);
                continue;
            }
            if (b != (byte)']') return NotPlain;
            count = n;
            return pos;
        }
    }

    /// <summary>
    /// Parses the token that is all of <paramref name="token"/> to the nearest float32; false when it is not a JSON
    /// number or lies beyond float32's range.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> token, out float value)
    {
        var end = ScanFraction(token, 0, out value);
        if (end < 0) end = ScanNumber(token, 0, out value);
        return end == token.Length;
    }

    /// <summary>
    /// The common case, quickly: <c>-?0.d…d</c> with 1 to 15 fraction digits and no exponent (a coordinate of a
    /// unit vector, written the shortest way, nearly always is). Returns the index just past the number, or -1 for
    /// anything else (including texts that are not JSON), which <see cref="ScanNumber"/> then reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanFraction(ReadOnlySpan<byte> s, int pos, out float value) =>
        Ssse3.IsSupported && Sse41.IsSupported ? ScanFraction16(s, pos, out value) : ScanFraction8(s, pos, out value);

    /// <summary>
    /// <see cref="ScanFraction"/> with SSSE3/SSE4.1: the sixteen bytes after "0." are read at once, the digits among
    /// them counted, the bytes after them zeroed, and the sixteen-digit number M formed by three multiply-adds. M is
    /// the fraction's digits followed by zeros, so the value is exactly x = M / 10^16 (and M &lt; 2^53 is checked).
    /// It is computed as M · fl(10^-16), a multiplication instead of a division: fl(10^-16) is within 2^-53 of
    /// 10^-16 relatively and the product is rounded once more, so the double d lies within 1.5 units in its last
    /// place of x (x ≥ 10^-16 is far inside the normal range, and a unit in the last place of x is at least x·2^-53).
    /// Where d is within 3 units of a float midpoint (its 29 bits below float precision within 3 of 1000…0), x
    /// may lie on the other side of it, and the exact path decides; everywhere else d and x round to the same float.
    /// The sign is put on as a bit, so that a random mix of signs costs no mispredicted branches.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ScanFraction16(ReadOnlySpan<byte> s, int pos, out float value)
    {
        value = 0;
        if ((uint)pos >= (uint)s.Length) return -1;
        ref var b0 = ref MemoryMarshal.GetReference(s);
        var negative = Unsafe.Add(ref b0, pos) == (byte)'-' ? 1 : 0;
        var p = pos + negative;
        if (p > s.Length - 19) return -1;
        ref var bp = ref Unsafe.Add(ref b0, p);
        if (Unsafe.ReadUnaligned<ushort>(ref bp) != 0x2E30) return -1; // "0."
        var digits = Vector128.LoadUnsafe(ref bp, 2) - Vector128.Create((byte)'0');
        var notDigit = ~Vector128.LessThanOrEqual(digits, Vector128.Create((byte)9)).ExtractMostSignificantBits() & 0xFFFF;
        var count = BitOperations.TrailingZeroCount(notDigit | 0x1_0000);
        if ((uint)(count - 1) >= 15) return -1;
        digits &= Vector128.LessThan(Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector128.Create((byte)count));
        var pairs = Ssse3.MultiplyAddAdjacent(digits, Vector128.Create(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, (sbyte)1));
        var quads = Sse2.MultiplyAddAdjacent(pairs, Vector128.Create(100, 1, 100, 1, 100, 1, 100, (short)1));
        var packed = Sse41.PackUnsignedSaturate(quads, quads).AsInt16();
        var eights = Sse2.MultiplyAddAdjacent(packed, Vector128.Create(10000, 1, 10000, 1, 10000, 1, 10000, (short)1));
        var mantissa = (long)eights.ToScalar() * 100_000_000 + eights.GetElement(1);
        var end = p + 2 + count;
        if ((Unsafe.Add(ref bp, 2 + count) | 0x20) == (byte)'e' || mantissa >= 1L << 53) return -1;
        var nearest = mantissa * 1e-16;
        // nearest is within 1.5 units in the last place of the exact value: near a float midpoint, let the exact path decide.
        if ((ulong)((BitConverter.DoubleToInt64Bits(nearest) & 0x1FFF_FFFF) - 0x0FFF_FFFD) <= 6) return -1;
        var bits = BitConverter.SingleToInt32Bits((float)nearest) | (negative << 31);
        value = BitConverter.Int32BitsToSingle(bits);
        return end;
    }

    /// <summary><see cref="ScanFraction"/> with 64-bit words, eight digits at a time, for processors without SSE4.1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ScanFraction8(ReadOnlySpan<byte> s, int pos, out float value)
    {
        value = 0;
        var negative = (uint)pos < (uint)s.Length && s[pos] == (byte)'-';
        var p = negative ? pos + 1 : pos;
        // Room for "0." and sixteen bytes after it, so that the byte after the number can be looked at too.
        if (p > s.Length - 18 || s[p] != (byte)'0' || s[p + 1] != (byte)'.') return -1;
        var first = BinaryPrimitives.ReadUInt64LittleEndian(s[(p + 2)..]);
        var count = LeadingDigits(first);
        if (count == 0) return -1;
        ulong mantissa;
        if (count < 8)
        {
            mantissa = Digits(first, count);
        }
        else
        {
            var second = BinaryPrimitives.ReadUInt64LittleEndian(s[(p + 10)..]);
            var more = LeadingDigits(second);
            if (more == 8) return -1;
            mantissa = Digits(first, 8) * Pow10Integer[more] + (more == 0 ? 0 : Digits(second, more));
            count += more;
        }
        var end = p + 2 + count;
        if ((s[end] | 0x20) == (byte)'e')
            return -1;
        if (mantissa == 0)
        {
            value = negative ? -0f : 0f;
            return end;
        }
        var nearest = (long)mantissa / Pow10[count]; // below 2^53: a signed conversion, one instruction
        if ((BitConverter.DoubleToInt64Bits(nearest) & 0x1FFF_FFFF) == 0x1000_0000) return -1; // see ScanNumber
        var f = (float)nearest;
        value = negative ? -f : f;
        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int pos)
    {
        while ((uint)pos < (uint)json.Length)
        {
            var b = json[pos];
            if (b != (byte)' ' && b != (byte)'\n' && b != (byte)'\r' && b != (byte)'\t') break;
            pos++;
        }
        return pos;
    }

    /// <summary>
    /// Reads one JSON number starting at <paramref name="pos"/>; returns the index just past it, or -1 when the text
    /// there is not a JSON number, or its value is not a finite float32.
    /// </summary>
    private static int ScanNumber(ReadOnlySpan<byte> s, int pos, out float value)
    {
        value = 0;
        var first = pos;
        var negative = false;
        if ((uint)pos < (uint)s.Length && s[pos] == (byte)'-')
        {
            negative = true;
            pos++;
        }
        if ((uint)pos >= (uint)s.Length) return -1;

        // mantissa·10^exponent is the value exactly while `exact` holds; digits that would overflow the mantissa
        // are dropped and clear it (the runtime's parser then reads the text).
        ulong mantissa = 0;
        var exponent = 0;
        var exact = true;
        var d = (uint)(s[pos] - '0');
        if (d == 0)
        {
            pos++; // a leading zero stands alone: "01" is not JSON
            if ((uint)pos < (uint)s.Length && (uint)(s[pos] - '0') <= 9) return -1;
        }
        else if (d <= 9)
        {
            do
            {
                if (mantissa < MaxBeforeDigit) mantissa = mantissa * 10 + d;
                else
                {
                    exact = false;
                    exponent++;
                }
                pos++;
            }
            while ((uint)pos < (uint)s.Length && (d = (uint)(s[pos] - '0')) <= 9);
        }
        else
        {
            return -1;
        }

        if ((uint)pos < (uint)s.Length && s[pos] == (byte)'.')
        {
            pos++;
            var fraction = pos;
            // Eight bytes at a time: a float's shortest text has at most nine significant digits, so one or two
            // steps read a whole fraction.
            while (pos <= s.Length - 8)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(s[pos..]);
                var digits = LeadingDigits(word);
                if (digits == 0) break;
                if (mantissa < MaxBeforeEightDigits)
                {
                    mantissa = mantissa * Pow10Integer[digits] + Digits(word, digits);
                    exponent -= digits;
                }
                else
                {
                    exact = false;
                }
                pos += digits;
                if (digits < 8) break;
            }
            while ((uint)pos < (uint)s.Length && (d = (uint)(s[pos] - '0')) <= 9)
            {
                if (mantissa < MaxBeforeDigit)
                {
                    mantissa = mantissa * 10 + d;
                    exponent--;
                }
                else
                {
                    exact = false;
                }
                pos++;
            }
            if (pos == fraction) return -1; // "1." is not JSON
        }

        if ((uint)pos < (uint)s.Length && (s[pos] | 0x20) == (byte)'e')
        {
            pos++;
            var expNegative = false;
            if ((uint)pos < (uint)s.Length && (s[pos] == (byte)'+' || s[pos] == (byte)'-'))
            {
                expNegative = s[pos] == (byte)'-';
                pos++;
            }
            if ((uint)pos >= (uint)s.Length || (d = (uint)(s[pos] - '0')) > 9) return -1;
            var e = 0;
            do
            {
                if (e < 100_000) e = e * 10 + (int)d;
                pos++;
            }
            while ((uint)pos < (uint)s.Length && (d = (uint)(s[pos] - '0')) <= 9);
            exponent += expNegative ? -e : e;
        }

        if (exact)
        {
            if (mantissa == 0)
            {
                value = negative ? -0f : 0f;
                return pos;
            }
            if (mantissa < Pow2_53 && exponent is >= -22 and <= 22)
            {
                var nearest = exponent < 0 ? (long)mantissa / Pow10[-exponent] : (long)mantissa * Pow10[exponent];
                // A double exactly halfway between two floats: rounding it again could go the wrong way.
                if ((BitConverter.DoubleToInt64Bits(nearest) & 0x1FFF_FFFF) != 0x1000_0000)
                {
                    var f = (float)nearest;
                    value = negative ? -f : f;
                    return pos;
                }
            }
        }
        if (!float.TryParse(s[first..pos], NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !float.IsFinite(value))
            return -1;
        return pos;
    }

    // Below these, one more digit (or eight) cannot overflow the mantissa.
    private const ulong MaxBeforeDigit = (ulong.MaxValue - 9) / 10;
    private const ulong MaxBeforeEightDigits = 10_000_000_000;

    private static ReadOnlySpan<ulong> Pow10Integer => [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

    /// <summary>How many of the eight bytes of <paramref name="word"/> (first byte lowest) are ASCII digits before the first that is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LeadingDigits(ulong word)
    {
        const ulong High = 0x8080_8080_8080_8080;
        const ulong Low7 = 0x7F7F_7F7F_7F7F_7F7F;
        // Per byte, without carries between bytes (the high bit is taken out first): the high bit of `above` is set
        // when the byte's low seven bits are ≥ '9' + 1, that of `atLeastZero` when they are ≥ '0'; a byte with its
        // own high bit set is no digit either.
        var low = word & Low7;
        var above = low + 0x4646_4646_4646_4646; // 0x80 - 0x3A
        var atLeastZero = low + 0x5050_5050_5050_5050; // 0x80 - 0x30
        var notDigit = (above | ~atLeastZero | word) & High;
        return notDigit == 0 ? 8 : BitOperations.TrailingZeroCount(notDigit) >> 3;
    }

    /// <summary>The value of the first <paramref name="count"/> (1..8) bytes of <paramref name="word"/>, all digits, first byte most significant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Digits(ulong word, int count)
    {
        // Digit values (the digits themselves borrow nothing; what follows them may, but only upwards), moved to
        // the top so that the bytes left empty below act as leading zeros of an eight-digit number.
        var v = (word - 0x3030_3030_3030_3030) << (8 * (8 - count));
        // Pairs, then quads, then the eight: each lane becomes high·base + low, and the mask keeps the lane.
        v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
        return (v * 10_000 + (v >> 32)) & 0xFFFF_FFFF;
    }
}
