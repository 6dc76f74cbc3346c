using System.Globalization;
using System.Text;

namespace VecMigrate.Module.Tests.Support;

/// <summary>
/// Reads the restricted PowerShell data language a manifest is written in (hashtables, arrays,
/// single- and double-quoted strings without expansion, numbers, $true/$false/$null, comments), so
/// that the manifest can be checked without PowerShell. Anything else, such as an expression or
/// a variable, is an error: Import-Module would reject it too.
/// </summary>
internal sealed class PowerShellData
{
    private readonly string _text;
    private int _at;

    private PowerShellData(string text) => _text = text;

    /// <summary>Parses a whole .psd1: exactly one hashtable, keys case-insensitive.</summary>
    public static Dictionary<string, object?> ParseHashtable(string text)
    {
        var parser = new PowerShellData(text);
        parser.SkipSpace(newlines: true);
        var value = parser.ParseValue();
        parser.SkipSpace(newlines: true);
        if (parser._at != text.Length) throw parser.Error("text after the manifest's hashtable");
        return value as Dictionary<string, object?> ?? throw parser.Error("the manifest is not a hashtable");
    }

    private object? ParseValue()
    {
        SkipSpace(newlines: false);
        if (Peek("@{")) return ParseTable();
        if (Peek("@(")) return ParseArray();
        var first = ParseScalar();
        SkipSpace(newlines: false);
        if (!Peek(",")) return first;
        // a, b, c without @( ) is an array too
        var items = new List<object?> { first };
        while (Peek(","))
        {
            _at++;
            SkipSpace(newlines: true);
            items.Add(ParseScalar());
            SkipSpace(newlines: false);
        }
        return items;
    }

    private Dictionary<string, object?> ParseTable()
    {
        _at += 2;
        var table = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            SkipSpace(newlines: true, semicolons: true);
            if (Peek("}"))
            {
                _at++;
                return table;
            }
            var key = Current is '\'' or '"' ? ParseString() : ParseBareWord();
            SkipSpace(newlines: false);
            Expect('=');
            SkipSpace(newlines: true);
            var value = ParseValue();
            if (!table.TryAdd(key, value)) throw Error($"duplicate key '{key}'");
            SkipSpace(newlines: false);
            if (!(Peek("}") || Peek(";") || Peek("\n") || Peek("\r") || Peek("#"))) throw Error("expected a new line, ';' or '}' after a value");
        }
    }

    private List<object?> ParseArray()
    {
        _at += 2;
        var items = new List<object?>();
        while (true)
        {
            SkipSpace(newlines: true, semicolons: true);
            if (Peek(")"))
            {
                _at++;
                return items;
            }
            // Items are separated by new lines or commas; a nested @( ) stays one item.
            items.Add(ParseScalar());
            SkipSpace(newlines: false);
            if (Peek(",")) _at++;
        }
    }

    private object? ParseScalar()
    {
        SkipSpace(newlines: false);
        if (_at >= _text.Length) throw Error("a value is missing");
        if (Peek("@{")) return ParseTable();
        if (Peek("@(")) return ParseArray();
        if (Current is '\'' or '"') return ParseString();
        if (Current == '$')
        {
            var word = ParseBareWord(allowDollar: true).ToLowerInvariant();
            return word switch
            {
                "$true" => true,
                "$false" => false,
                "$null" => null,
                _ => throw Error($"variable {word} is not allowed in a data file"),
            };
        }
        if (char.IsAsciiDigit(Current) || Current == '-')
        {
            var start = _at;
            _at++;
            while (_at < _text.Length && (char.IsAsciiDigit(Current) || Current == '.')) _at++;
            var number = _text[start.._at];
            return number.Contains('.')
                ? double.Parse(number, CultureInfo.InvariantCulture)
                : long.Parse(number, CultureInfo.InvariantCulture);
        }
        throw Error($"unexpected '{Current}'");
    }

    private string ParseString()
    {
        var quote = Current;
        _at++;
        var text = new StringBuilder();
        while (true)
        {
            if (_at >= _text.Length) throw Error("unterminated string");
            var c = _text[_at++];
            if (c == quote)
            {
                if (_at < _text.Length && _text[_at] == quote)
                {
                    text.Append(quote); // '' or "" is an escaped quote
                    _at++;
                    continue;
                }
                return text.ToString();
            }
            if (quote == '"' && c is '$' or '`') throw Error("expandable strings ($, `) are not allowed in a data file");
            text.Append(c);
        }
    }

    private string ParseBareWord(bool allowDollar = false)
    {
        var start = _at;
        if (allowDollar && Current == '$') _at++;
        while (_at < _text.Length && (char.IsLetterOrDigit(Current) || Current == '_')) _at++;
        if (_at == start) throw Error("expected a key");
        return _text[start.._at];
    }

    private void SkipSpace(bool newlines, bool semicolons = false)
    {
        while (_at < _text.Length)
        {
            var c = Current;
            if (c is ' ' or '\t' || (newlines && c is '\r' or '\n') || (semicolons && c == ';'))
            {
                _at++;
            }
            else if (Peek("<#"))
            {
                var end = _text.IndexOf("#>", _at + 2, StringComparison.Ordinal);
                if (end < 0) throw Error("unterminated block comment");
                _at = end + 2;
            }
            else if (c == '#')
            {
                while (_at < _text.Length && Current != '\n') _at++;
            }
            else
            {
                return;
            }
        }
    }

    private char Current => _text[_at];

    private bool Peek(string s) => string.CompareOrdinal(_text, _at, s, 0, s.Length) == 0;

    private void Expect(char c)
    {
        if (_at >= _text.Length || Current != c) throw Error($"expected '{c}'");
        _at++;
    }

    private FormatException Error(string what)
    {
        var line = 1 + _text.AsSpan(0, Math.Min(_at, _text.Length)).Count('\n');
        return new FormatException($"Manifest line {line}: {what}.");
    }
}
