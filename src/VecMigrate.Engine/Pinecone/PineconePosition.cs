using System.Buffers;
using System.Text.Json;

namespace VecMigrate.Engine.Pinecone;

/// <summary>
/// A record's place in a Pinecone read, carried as <see cref="Records.VectorRecord.Position"/>: the namespace,
/// the list pagination token of its page (null for the first page), how many ids of that page had been
/// consumed through it, and its id (to check the page on resume). In explicit-id mode the count is the
/// offset in the given id list. Encoded as base64url JSON; callers treat it as opaque.
/// </summary>
internal sealed record PineconePosition(bool ExplicitIds, string Namespace, string? PageToken, int Count, string LastId, string? Prefix)
{
    private const int Version = 1;

    public string Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            w.WriteString("m", ExplicitIds ? "i" : "l");
            w.WriteString("ns", Namespace);
            if (PageToken is null) w.WriteNull("pt");
            else w.WriteString("pt", PageToken);
            w.WriteNumber("n", Count);
            w.WriteString("last", LastId);
            if (Prefix is null) w.WriteNull("pre");
            else w.WriteString("pre", Prefix);
            w.WriteEndObject();
        }
        var json = buffer.WrittenSpan;
        var text = Convert.ToBase64String(json);
        return text.TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static PineconePosition Decode(string position)
    {
        try
        {
            var b64 = position.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Convert.FromBase64String(b64));
            var root = doc.RootElement;
            if (root.GetProperty("v").GetInt32() != Version) throw Bad(null);
            var mode = root.GetProperty("m").GetString();
            if (mode is not ("i" or "l")) throw Bad(null);
            var count = root.GetProperty("n").GetInt32();
            if (count < 1) throw Bad(null);
            var pt = root.GetProperty("pt");
            var pre = root.GetProperty("pre");
            return new PineconePosition(
                mode == "i",
                root.GetProperty("ns").GetString() ?? throw Bad(null),
                pt.ValueKind == JsonValueKind.Null ? null : pt.GetString(),
                count,
                root.GetProperty("last").GetString() ?? throw Bad(null),
                pre.ValueKind == JsonValueKind.Null ? null : pre.GetString());
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw Bad(ex);
        }
    }

    private static VecMigrateException Bad(Exception? inner) =>
        new(FailureKind.InvalidArgument, PineconeErrorIds.InvalidPosition,
            "The position to resume after is not one a Pinecone read produced (it cannot be decoded).", null, inner);
}
