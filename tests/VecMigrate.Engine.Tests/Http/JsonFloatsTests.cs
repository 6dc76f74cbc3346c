using System.Globalization;
using System.Text;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Tests.Http;

/// <summary>
/// The fast float scanner gives exactly what the runtime's correctly rounding parser gives, for every text it takes,
/// and takes only what JSON allows.
/// </summary>
public sealed class JsonFloatsTests
{
    private static float Reference(string text) => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static void AssertSame(string text)
    {
        var expected = Reference(text);
        Assert.True(JsonFloats.TryParse(Encoding.ASCII.GetBytes(text), out var actual), $"refused {text}");
        if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(actual))
            Assert.Fail($"{text}: expected 0x{BitConverter.SingleToInt32Bits(expected):X8}, got 0x{BitConverter.SingleToInt32Bits(actual):X8}");
    }

    [Fact]
    public void Every_float_in_a_large_random_sample_comes_back_bit_for_bit_from_its_shortest_text()
    {
        // 6 million finite floats of random bits (every exponent, subnormals included), each written the shortest
        // way ("R"), as Utf8JsonWriter writes it, and with 9 significant digits; parsed back and compared by bits.
        var random = new Random(20260501);
        Span<byte> text = stackalloc byte[64];
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        var checkedCount = 0;
        for (var i = 0; i < 2_000_000; i++)
        {
            var f = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
            if (!float.IsFinite(f)) continue;
            foreach (var format in (string[])["R", "G9"])
            {
                Assert.True(f.TryFormat(text, out var n, format, CultureInfo.InvariantCulture));
                Check(f, text[..n]);
            }
            buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(buffer)) w.WriteNumberValue(f);
            Check(f, buffer.WrittenSpan);
            checkedCount += 3;
        }
        Assert.True(checkedCount > 5_000_000);

        static void Check(float f, ReadOnlySpan<byte> utf8)
        {
            if (!JsonFloats.TryParse(utf8, out var back) || BitConverter.SingleToInt32Bits(back) != BitConverter.SingleToInt32Bits(f))
                Assert.Fail($"{Encoding.ASCII.GetString(utf8)}: expected 0x{BitConverter.SingleToInt32Bits(f):X8}, got 0x{BitConverter.SingleToInt32Bits(back):X8}");
        }
    }

    [Fact]
    public void Vector_like_values_in_minus_one_to_one_come_back_bit_for_bit()
    {
        // The values real embeddings hold, where the fast path does all the work.
        var random = new Random(7);
        Span<byte> text = stackalloc byte[64];
        for (var i = 0; i < 3_000_000; i++)
        {
            var f = (float)(random.NextDouble() * 2 - 1);
            Assert.True(f.TryFormat(text, out var n, "R", CultureInfo.InvariantCulture));
            Assert.True(JsonFloats.TryParse(text[..n], out var back));
            Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(back));
        }
    }

    [Fact]
    public void Random_decimal_texts_of_every_length_and_exponent_round_as_the_runtime_does()
    {
        // Not only shortest texts: 1 to 25 digits, the point anywhere, exponents -60..60, so the fast path, its
        // limits (2^53, 10^22, 19 digits) and the fallback are all crossed.
        var random = new Random(99);
        var sb = new StringBuilder();
        for (var i = 0; i < 1_500_000; i++)
        {
            sb.Clear();
            if (random.Next(2) == 0) sb.Append('-');
            var digits = random.Next(1, 26);
            var point = random.Next(0, digits + 1);
            sb.Append((char)('1' + random.Next(9)));
            for (var k = 1; k < digits; k++)
            {
                if (k == point) sb.Append('.');
                sb.Append((char)('0' + random.Next(10)));
            }
            if (random.Next(3) > 0) sb.Append(random.Next(2) == 0 ? 'e' : 'E').Append(random.Next(-60, 61).ToString(CultureInfo.InvariantCulture));
            var text = sb.ToString();
            var expected = Reference(text);
            if (!float.IsFinite(expected))
            {
                Assert.False(JsonFloats.TryParse(Encoding.ASCII.GetBytes(text), out _), text);
                continue;
            }
            AssertSame(text);
        }
    }

    [Fact]
    public void Texts_whose_nearest_double_is_a_midpoint_between_two_floats_round_as_the_exact_value_does()
    {
        // The one trap of parsing through double: a text whose nearest double is exactly halfway between two
        // floats. The shortest text of such a midpoint double (and its neighbours in the 17th digit) are such texts.
        var random = new Random(5);
        Span<char> text = stackalloc char[64];
        for (var i = 0; i < 300_000; i++)
        {
            var f = BitConverter.Int32BitsToSingle(random.Next(0x00800000, 0x7F000000));
            var mid = ((double)f + (double)MathF.BitIncrement(f)) / 2; // exact: 25 significant bits
            foreach (var format in (string[])["R", "G17", "G16", "G15"])
            {
                Assert.True(mid.TryFormat(text, out var n, format, CultureInfo.InvariantCulture));
                AssertSame(text[..n].ToString());
            }
            var g17 = mid.ToString("E16", CultureInfo.InvariantCulture);
            AssertSame(Nudge(g17, +1));
            AssertSame(Nudge(g17, -1));
        }

        // "d.dddddddddddddddd E±xx": change the last mantissa digit by one (within 1..8, so no carry is needed).
        static string Nudge(string e16, int by)
        {
            var at = e16.IndexOf('E') - 1;
            var c = e16[at];
            if (c is '0' or '9') return e16;
            return e16[..at] + (char)(c + by) + e16[(at + 1)..];
        }
    }

    [Fact]
    public void Both_fraction_fast_paths_agree_with_the_runtime_on_every_fraction_they_take()
    {
        // The SSE4.1 path runs on this machine's x64; the 64-bit-word path is what other processors use. Both are
        // called directly here, on fractions of 1 to 20 digits with the bytes after them varied.
        var random = new Random(17);
        var sixteen = Ssse3.IsSupported && Sse41.IsSupported;
        var taken16 = 0;
        var taken8 = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var digits = random.Next(1, 21);
            var text = (random.Next(2) == 0 ? "-0." : "0.") + string.Concat(Enumerable.Range(0, digits).Select(_ => (char)('0' + random.Next(10))));
            var tail = random.Next(4) switch { 0 => ",0.5,0.25,0.125]", 1 => "]                 ", 2 => "e-3,1,2,3,4,5,6,7]", _ => " , 7,8,9,10,11,12]" };
            var json = Encoding.ASCII.GetBytes(text + tail);
            var expected = Reference(text + (tail[0] == 'e' ? "e-3" : ""));
            var end8 = JsonFloats.ScanFraction8(json, 0, out var v8);
            var v16 = 0f;
            var end16 = sixteen ? JsonFloats.ScanFraction16(json, 0, out v16) : -1;
            foreach (var (path, end, value) in new[] { ("8", end8, v8), ("16", end16, v16) })
            {
                if (end < 0) continue; // not taken: the general path reads it
                if (path == "8") taken8++;
                else taken16++;
                Assert.Equal(text.Length, end);
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(value))
                    Assert.Fail($"{path}: {text}{tail}: expected {expected:R}, got {value:R}");
            }
        }
        Assert.True(taken8 > 300_000, $"the 8-byte path took only {taken8}");
        if (sixteen) Assert.True(taken16 > 300_000, $"the 16-byte path took only {taken16}");
    }

    [Fact]
    public void Fractions_a_hair_from_a_float_midpoint_round_as_the_exact_value_does()
    {
        // The 16-byte path multiplies by an inexact 10^-16 and hands values within a few units of a float midpoint
        // to the exact path. Here every text is one of the 15-digit fractions nearest a midpoint between two
        // adjacent floats (of every binade from 10^-15 up), where a wrong decision would show.
        var random = new Random(29);
        var sixteen = Ssse3.IsSupported && Sse41.IsSupported;
        var taken = 0;
        for (var i = 0; i < 400_000; i++)
        {
            var f = (float)Math.Pow(10, -15 * random.NextDouble()) * (float)(0.1 + 0.9 * random.NextDouble());
            var midpoint = ((double)f + MathF.BitIncrement(f)) / 2; // exact in double
            var digits = (long)Math.Floor(midpoint * 1e15) + random.Next(-1, 3);
            if (digits is <= 0 or >= 1_000_000_000_000_000) continue;
            var text = (random.Next(2) == 0 ? "-0." : "0.") + digits.ToString("D15", CultureInfo.InvariantCulture);
            var json = Encoding.ASCII.GetBytes(text + ",0.5]              ");
            var expected = Reference(text);
            AssertSame(text);
            if (!sixteen) continue;
            var end = JsonFloats.ScanFraction16(json, 0, out var value);
            if (end < 0) continue;
            taken++;
            Assert.Equal(text.Length, end);
            if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(value))
                Assert.Fail($"{text}: expected {expected:R}, got {value:R}");
        }
        if (sixteen) Assert.True(taken > 100_000, $"the 16-byte path took only {taken}");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData("0e0")]
    [InlineData("0.000E+99")]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("0.1")]
    [InlineData("1e-45")] // the smallest subnormal
    [InlineData("1.4e-45")]
    [InlineData("-1.401298464324817e-45")]
    [InlineData("7.006492321624086e-46")] // just above half the smallest subnormal
    [InlineData("7e-46")]
    [InlineData("1e-50")] // rounds to zero
    [InlineData("1.1754942E-38")] // the largest subnormal
    [InlineData("1.17549435E-38")] // the smallest normal
    [InlineData("3.4028235E+38")] // float.MaxValue
    [InlineData("-3.4028235e38")]
    [InlineData("3.4028235677973366e38")] // just below MaxValue + half an ulp
    [InlineData("16777216")]
    [InlineData("16777217")] // a midpoint, exactly: ties to even
    [InlineData("16777219")]
    [InlineData("9007199254740992")] // 2^53
    [InlineData("9007199254740993")] // 2^53 + 1: beyond the fast path's mantissa
    [InlineData("1e22")]
    [InlineData("1e23")]
    [InlineData("1e-22")]
    [InlineData("1e-23")]
    [InlineData("1234567890123456789")] // 19 digits
    [InlineData("12345678901234567890123456789")]
    [InlineData("0.000000000000000000000000000001")]
    [InlineData("1.000000059604644775390625")] // the midpoint of 1 and the next float, exactly
    [InlineData("1.000000059604644776257986737988403547205962240695953369140625")]
    [InlineData("1.0000000596046448")] // its shortest double: a midpoint double, though the text is above it
    [InlineData("1E-05")]
    [InlineData("-2.5e+10")]
    [InlineData("0.123456789012345")] // the fraction fast path's longest
    [InlineData("0.1234567890123456")] // one digit more: the general path
    [InlineData("0.99999999999999999999")]
    [InlineData("-0.000000000000001")]
    [InlineData("0.00000000")]
    [InlineData("0.5e1")]
    [InlineData("-0.5E-3")]
    [InlineData("0.12345678")] // exactly eight fraction digits
    [InlineData("0.123456789")]
    public void Edge_cases_parse_as_the_runtime_parses_them(string text) => AssertSame(text);

    [Theory]
    [InlineData("1e39")]
    [InlineData("3.4028236e38")] // rounds past MaxValue
    [InlineData("-1e400")]
    [InlineData("1e99999999999")]
    public void Numbers_beyond_float32_are_refused(string text) =>
        Assert.False(JsonFloats.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("--1")]
    [InlineData("+1")]
    [InlineData("01")]
    [InlineData("-01")]
    [InlineData("00")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("1E-")]
    [InlineData("1.5x")]
    [InlineData("0x10")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1,")]
    public void Text_that_is_not_a_json_number_is_refused(string text) =>
        Assert.False(JsonFloats.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("[]", 0)]
    [InlineData("[ \t\r\n]", 0)]
    [InlineData("[1]", 1)]
    [InlineData("[1,2,3]", 3)]
    [InlineData("[ 1 ,\n\t2\r\n, 3 ]", 3)]
    [InlineData("[1, 2,\n3]", 3)]
    [InlineData("[-0.5,1e-3,2E+2]", 3)]
    public void Arrays_of_numbers_are_scanned_to_their_closing_bracket(string text, int count)
    {
        var json = Encoding.ASCII.GetBytes(text + ",\"next\":1");
        var dest = new float[8];
        var close = JsonFloats.ScanArray(json, 1, dest, out var n);
        Assert.Equal(text.Length - 1, close);
        Assert.Equal(count, n);
        var expected = JsonSerializer.Deserialize<float[]>(text)!;
        Assert.Equal(expected, dest[..n]);
    }

    [Fact]
    public void Long_arrays_of_every_kind_of_number_read_as_the_runtime_reads_each_number()
    {
        // Fractions of every length (the fast path and its edges), exponents, integers and whitespace, in one array
        // long enough that the fast path runs, and with its last numbers close to the end of the text.
        var random = new Random(3);
        var texts = new List<string>();
        for (var i = 0; i < 20_000; i++)
        {
            var digits = random.Next(1, 20);
            var fraction = string.Concat(Enumerable.Range(0, digits).Select(_ => (char)('0' + random.Next(10))));
            texts.Add((random.Next(2) == 0 ? "-" : "") + (random.Next(5) switch
            {
                0 => "0." + fraction,
                1 => "0." + fraction + "e" + random.Next(-5, 5),
                2 => random.Next(1, 1000) + "." + fraction,
                3 => random.Next(0, 100000).ToString(CultureInfo.InvariantCulture),
                _ => "0.0" + fraction,
            }));
        }
        var separators = new[] { ",", ",", ",", ", ", " ,\n" };
        var sb = new StringBuilder("[");
        for (var i = 0; i < texts.Count; i++) sb.Append(i == 0 ? "" : separators[random.Next(separators.Length)]).Append(texts[i]);
        var json = Encoding.ASCII.GetBytes(sb.Append(']').ToString());
        var dest = new float[texts.Count];
        Assert.Equal(json.Length - 1, JsonFloats.ScanArray(json, 1, dest, out var n));
        Assert.Equal(texts.Count, n);
        for (var i = 0; i < n; i++)
        {
            if (BitConverter.SingleToInt32Bits(Reference(texts[i])) != BitConverter.SingleToInt32Bits(dest[i]))
                Assert.Fail($"{texts[i]}: expected {Reference(texts[i]):R}, got {dest[i]:R}");
        }
    }

    [Theory]
    [InlineData("[1,]")] // trailing comma
    [InlineData("[,1]")]
    [InlineData("[1 2]")]
    [InlineData("[1,[2]]")]
    [InlineData("[[1]]")]
    [InlineData("[1,\"2\"]")]
    [InlineData("[1,null]")]
    [InlineData("[1,true]")]
    [InlineData("[1,{}]")]
    [InlineData("[1,01]")]
    [InlineData("[1,1e999]")]
    [InlineData("[1 /* comment */]")]
    [InlineData("[1\u00a0]")]
    [InlineData("[1,2")] // the text ends inside the array
    [InlineData("[1,2,")]
    [InlineData("[")]
    public void Anything_else_is_left_to_the_reader(string text)
    {
        var json = Encoding.UTF8.GetBytes(text);
        Assert.Equal(JsonFloats.NotPlain, JsonFloats.ScanArray(json, 1, new float[8], out _));
    }

    [Fact]
    public void A_destination_too_small_is_reported_so_the_caller_can_grow_it()
    {
        var json = "[1,2,3]"u8;
        Assert.Equal(JsonFloats.TooSmall, JsonFloats.ScanArray(json, 1, new float[2], out _));
        Assert.Equal(6, JsonFloats.ScanArray(json, 1, new float[3], out var n));
        Assert.Equal(3, n);
    }
}
