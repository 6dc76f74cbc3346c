using System.Globalization;
using System.Runtime.CompilerServices;

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

    // 10^0 .. 10^22 are exact doubles.
    private static readonly double[] Pow10 =
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
            var end = ScanNumber(json, pos, out var value);
            if (end < 0) return NotPlain;
            if ((uint)n >= (uint)dest.Length) return TooSmall;
            dest[n++] = value;
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
    /// Parses the JSON number token that is all of <paramref name="token"/> to the nearest float32; false when it is
    /// not a JSON number or lies beyond float32's range.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> token, out float value)
    {
        var end = ScanNumber(token, 0, out value);
        return end == token.Length;
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

        ulong mantissa = 0;
        var significant = 0; // digits counted from the first non-zero one
        var exponent = 0;
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
                if (significant < 19) mantissa = mantissa * 10 + d;
                else exponent++; // dropped digit: the fallback below sees the text anyway
                significant++;
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
            if ((uint)pos >= (uint)s.Length || (d = (uint)(s[pos] - '0')) > 9) return -1;
            do
            {
                if (significant < 19)
                {
                    mantissa = mantissa * 10 + d;
                    exponent--;
                    if (mantissa != 0) significant++;
                }
                else
                {
                    significant++;
                }
                pos++;
            }
            while ((uint)pos < (uint)s.Length && (d = (uint)(s[pos] - '0')) <= 9);
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

        if (mantissa == 0 && significant == 0)
        {
            value = negative ? -0f : 0f;
            return pos;
        }
        if (significant <= 19 && mantissa < Pow2_53 && exponent is >= -22 and <= 22)
        {
            var exact = exponent < 0 ? mantissa / Pow10[-exponent] : mantissa * Pow10[exponent];
            // A double exactly halfway between two floats: rounding it again could go the wrong way.
            if ((BitConverter.DoubleToInt64Bits(exact) & 0x1FFF_FFFF) != 0x1000_0000)
            {
                var f = (float)exact;
                value = negative ? -f : f;
                return pos;
            }
        }
        if (!float.TryParse(s[first..pos], NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !float.IsFinite(value))
            return -1;
        return pos;
    }
}
