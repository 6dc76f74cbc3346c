using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// Checks that a payload is a JSON object (Qdrant's payloads are objects) and adds up to two string fields to it
/// (the original id, the namespace) by splicing bytes: the payload's own members are copied as they are, never
/// parsed into a tree and written again.
/// </summary>
internal sealed class QdrantPayloadFields : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256 };

    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private readonly Utf8JsonWriter _writer;

    public QdrantPayloadFields()
    {
        _writer = new Utf8JsonWriter(_scratch, WriterOptions);
    }

    /// <summary>The outcome: null when the payload can go, else an error id and what is wrong.</summary>
    public readonly record struct Problem(string ErrorId, string Message);

    /// <summary>
    /// The payload to send (empty for none) with <paramref name="idField"/> = <paramref name="idValue"/> and
    /// <paramref name="nsField"/> = <paramref name="nsValue"/> present (a null value adds nothing). A field the
    /// payload already holds with the same string is left as it is; with any other value it is a conflict.
    /// The result is valid until the next call.
    /// </summary>
    public Problem? Prepare(ReadOnlyMemory<byte> payload, string idField, string? idValue, string nsField, string? nsValue,
        out ReadOnlyMemory<byte> result)
    {
        result = default;
        var needId = idValue is not null;
        var needNs = nsValue is not null;
        var haveId = false;
        var haveNs = false;
        var hasPayload = false;
        var openAt = 0;
        if (!payload.IsEmpty)
        {
            var span = payload.Span;
            try
            {
                var r = new Utf8JsonReader(span, ReaderOptions);
                if (!r.Read()) return new Problem("QdrantPayloadInvalid", "the payload is empty text, not JSON");
                if (r.TokenType == JsonTokenType.StartObject)
                {
                    hasPayload = true;
                    openAt = (int)r.TokenStartIndex;
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        var isId = needId && r.ValueTextEquals(idField);
                        var isNs = needNs && r.ValueTextEquals(nsField);
                        r.Read();
                        if (isId || isNs)
                        {
                            var field = isId ? idField : nsField;
                            var wanted = isId ? idValue! : nsValue!;
                            if (r.TokenType != JsonTokenType.String || !r.ValueTextEquals(wanted))
                            {
                                return new Problem("QdrantPayloadFieldConflict",
                                    $"the payload already has a field '{field}' ({Excerpt(span, r)}) that differs from the {(isId ? "original id" : "namespace")} '{wanted}' VecMigrate keeps there; " +
                                    $"choose another field name for {(isId ? "original ids" : "namespaces")}");
                            }
                            if (isId) haveId = true;
                            else haveNs = true;
                        }
                        r.Skip();
                    }
                }
                else if (r.TokenType != JsonTokenType.Null) // JSON null: no payload
                {
                    return new Problem("QdrantPayloadNotObject", $"the payload is a JSON {Kind(r.TokenType)}, but a Qdrant payload is an object");
                }
                if (r.Read()) return new Problem("QdrantPayloadInvalid", "the payload holds more than one JSON value"); // (the reader throws first)
            }
            catch (JsonException ex)
            {
                return new Problem("QdrantPayloadInvalid", $"the payload is not valid JSON ({ex.Message})");
            }
        }

        if ((!needId || haveId) && (!needNs || haveNs))
        {
            if (hasPayload) result = payload;
            return null;
        }

        _scratch.ResetWrittenCount();
        _writer.Reset(_scratch);
        _writer.WriteStartObject();
        if (needId && !haveId) _writer.WriteString(idField, idValue);
        if (needNs && !haveNs) _writer.WriteString(nsField, nsValue);
        _writer.Flush();
        if (hasPayload)
        {
            // The payload's members follow ours: everything after its '{', closing brace included.
            var rest = payload.Span[(openAt + 1)..];
            var firstByte = rest.TrimStart(" \t\r\n"u8);
            if (firstByte.Length > 0 && firstByte[0] != (byte)'}') _scratch.Write(","u8);
            _scratch.Write(rest);
        }
        else
        {
            _scratch.Write("}"u8);
        }
        result = _scratch.WrittenMemory;
        return null;
    }

    private static string Kind(JsonTokenType t) => t switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        _ => t.ToString(),
    };

    private static string Excerpt(ReadOnlySpan<byte> json, Utf8JsonReader r)
    {
        string text;
        switch (r.TokenType)
        {
            case JsonTokenType.String:
                text = "\"" + r.GetString() + "\"";
                break;
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var start = (int)r.TokenStartIndex;
                r.Skip();
                text = Encoding.UTF8.GetString(json[start..(int)r.BytesConsumed]);
                break;
            default:
                text = Encoding.UTF8.GetString(r.ValueSpan);
                break;
        }
        return text.Length > 60 ? text[..60] + "…" : text;
    }

    public void Dispose() => _writer.Dispose();
}
