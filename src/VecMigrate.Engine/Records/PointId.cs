using System.Globalization;

namespace VecMigrate.Engine.Records;

/// <summary>What kind of value a <see cref="PointId"/> holds.</summary>
public enum PointIdKind : byte
{
    /// <summary>An unsigned 64-bit integer (Qdrant's numeric ids).</summary>
    Unsigned = 1,
    /// <summary>A UUID (Qdrant's UUID ids).</summary>
    Uuid = 2,
    /// <summary>A string (Pinecone ids, text keys of a Postgres table).</summary>
    String = 3,
}

/// <summary>
/// A record's identity as the source had it: an unsigned 64-bit integer, a UUID, or a string.
/// Kept exactly; never widened, narrowed or reformatted on the way through.
/// </summary>
public readonly struct PointId : IEquatable<PointId>, IComparable<PointId>
{
    private readonly ulong _number;
    private readonly Guid _uuid;
    private readonly string? _text;

    private PointId(PointIdKind kind, ulong number, Guid uuid, string? text)
    {
        Kind = kind;
        _number = number;
        _uuid = uuid;
        _text = text;
    }

    /// <summary>The kind of id; <c>default(PointId)</c> has kind 0 and is not a valid id.</summary>
    public PointIdKind Kind { get; }

    /// <summary>True for an id made by one of the factories (not <c>default</c>).</summary>
    public bool IsValid => Kind != 0;

    public static PointId FromUnsigned(ulong value) => new(PointIdKind.Unsigned, value, default, null);

    public static PointId FromUuid(Guid value) => new(PointIdKind.Uuid, 0, value, null);

    public static PointId FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(PointIdKind.String, 0, default, value);
    }

    public static implicit operator PointId(ulong value) => FromUnsigned(value);
    public static implicit operator PointId(Guid value) => FromUuid(value);
    public static implicit operator PointId(string value) => FromString(value);

    /// <summary>The numeric value; throws unless <see cref="Kind"/> is Unsigned.</summary>
    public ulong AsUnsigned => Kind == PointIdKind.Unsigned ? _number : throw WrongKind(PointIdKind.Unsigned);

    /// <summary>The UUID value; throws unless <see cref="Kind"/> is Uuid.</summary>
    public Guid AsUuid => Kind == PointIdKind.Uuid ? _uuid : throw WrongKind(PointIdKind.Uuid);

    /// <summary>The string value; throws unless <see cref="Kind"/> is String.</summary>
    public string AsString => Kind == PointIdKind.String ? _text! : throw WrongKind(PointIdKind.String);

    private InvalidOperationException WrongKind(PointIdKind wanted) =>
        new($"Point id {this} is of kind {Kind}, not {wanted}.");

    /// <summary>
    /// Parses the text form used by Qdrant: a decimal unsigned integer or a UUID. Anything else is
    /// rejected (use <see cref="FromString"/> for string ids).
    /// </summary>
    public static bool TryParseQdrant(string text, out PointId id)
    {
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            id = FromUnsigned(n);
            return true;
        }
        if (Guid.TryParse(text, out var g))
        {
            id = FromUuid(g);
            return true;
        }
        id = default;
        return false;
    }

    /// <summary>Decimal for unsigned ids, lower-case hyphenated for UUIDs, the string itself otherwise.</summary>
    public override string ToString() => Kind switch
    {
        PointIdKind.Unsigned => _number.ToString(CultureInfo.InvariantCulture),
        PointIdKind.Uuid => _uuid.ToString("D"),
        PointIdKind.String => _text!,
        _ => "(none)",
    };

    public bool Equals(PointId other) => Kind == other.Kind && Kind switch
    {
        PointIdKind.Unsigned => _number == other._number,
        PointIdKind.Uuid => _uuid == other._uuid,
        PointIdKind.String => string.Equals(_text, other._text, StringComparison.Ordinal),
        _ => true,
    };

    public override bool Equals(object? obj) => obj is PointId other && Equals(other);

    public override int GetHashCode() => Kind switch
    {
        PointIdKind.Unsigned => HashCode.Combine(Kind, _number),
        PointIdKind.Uuid => HashCode.Combine(Kind, _uuid),
        PointIdKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(_text!)),
        _ => 0,
    };

    /// <summary>
    /// Orders as Qdrant does: all unsigned ids before all UUIDs (UUIDs by their bytes in RFC order),
    /// then strings ordinally.
    /// </summary>
    public int CompareTo(PointId other)
    {
        if (Kind != other.Kind) return ((byte)Kind).CompareTo((byte)other.Kind);
        return Kind switch
        {
            PointIdKind.Unsigned => _number.CompareTo(other._number),
            PointIdKind.Uuid => CompareUuid(_uuid, other._uuid),
            PointIdKind.String => string.CompareOrdinal(_text, other._text),
            _ => 0,
        };
    }

    private static int CompareUuid(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }

    public static bool operator ==(PointId left, PointId right) => left.Equals(right);
    public static bool operator !=(PointId left, PointId right) => !left.Equals(right);
}
