using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Qdrant.Client.Grpc;
using Range = Qdrant.Client.Grpc.Range;

namespace VecMigrate.Engine.Qdrant;

/// <summary>
/// A filter as the user gives it for REST (Qdrant's JSON <c>Filter</c>) turned into the official client's gRPC
/// <see cref="Filter"/>, condition by condition, for every kind Qdrant 1.19's OpenAPI document defines:
/// <c>must</c> / <c>should</c> / <c>must_not</c> (one condition or a list) and <c>min_should</c>; field conditions
/// with <c>match</c> (<c>value</c>, <c>text</c>, <c>text_any</c>, <c>phrase</c>, <c>prefix</c>, <c>any</c>,
/// <c>except</c>), <c>range</c> (numbers, or RFC 3339 date-times for a datetime range), <c>geo_bounding_box</c>,
/// <c>geo_radius</c>, <c>geo_polygon</c>, <c>values_count</c>, <c>is_empty</c> / <c>is_null</c> flags; and
/// <c>is_empty</c>, <c>is_null</c>, <c>has_id</c>, <c>has_vector</c>, <c>slice</c>, <c>nested</c> and a nested filter
/// as conditions. Anything else — an unknown field, a value of the wrong type, a number that is not what the
/// document allows — is refused naming where in the filter it is, never dropped: a filter that silently lost a
/// condition would read more points than asked for.
/// </summary>
internal static class QdrantGrpcFilter
{
    public const string ErrorId = "QdrantInvalidFilter";

    /// <summary>The gRPC filter for <paramref name="json"/>; <paramref name="target"/> names the collection in errors.</summary>
    public static Filter FromJson(string json, string target)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
            return ReadFilter(doc.RootElement, "filter");
        }
        catch (JsonException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, ErrorId, $"The Qdrant filter is not valid JSON: {ex.Message}", target, ex);
        }
        catch (FilterException ex)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, ErrorId,
                $"The Qdrant filter cannot be sent over gRPC: `{ex.Path}` {ex.Message}.", target);
        }
    }

    private sealed class FilterException(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;
    }

    private static Filter ReadFilter(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "a filter object");
        var filter = new Filter();
        foreach (var p in e.EnumerateObject())
        {
            var at = path + "." + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            switch (p.Name)
            {
                case "must":
                    ReadConditions(p.Value, at, filter.Must);
                    break;
                case "should":
                    ReadConditions(p.Value, at, filter.Should);
                    break;
                case "must_not":
                    ReadConditions(p.Value, at, filter.MustNot);
                    break;
                case "min_should":
                    Expect(p.Value, JsonValueKind.Object, at, "an object with `conditions` and `min_count`");
                    var min = new MinShould();
                    foreach (var m in p.Value.EnumerateObject())
                    {
                        switch (m.Name)
                        {
                            case "conditions":
                                Expect(m.Value, JsonValueKind.Array, at + ".conditions", "a list of conditions");
                                ReadConditions(m.Value, at + ".conditions", min.Conditions);
                                break;
                            case "min_count":
                                min.MinCount = UInt64(m.Value, at + ".min_count", minimum: 1);
                                break;
                            default:
                                throw Unknown(at, m.Name);
                        }
                    }
                    Require(p.Value, at, "conditions", "min_count");
                    filter.MinShould = min;
                    break;
                default:
                    throw Unknown(path, p.Name, "`must`, `should`, `must_not`, `min_should`");
            }
        }
        return filter;
    }

    private static void ReadConditions(JsonElement e, string path, Google.Protobuf.Collections.RepeatedField<Condition> into)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            into.Add(ReadCondition(e, path));
            return;
        }
        var i = 0;
        foreach (var c in e.EnumerateArray()) into.Add(ReadCondition(c, $"{path}[{i++}]"));
    }

    private static Condition ReadCondition(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "a condition object");
        if (e.TryGetProperty("key", out _)) return new Condition { Field = ReadField(e, path) };
        if (e.TryGetProperty("is_empty", out var isEmpty))
        {
            Only(e, path, "is_empty");
            return new Condition { IsEmpty = new IsEmptyCondition { Key = PayloadKey(isEmpty, path + ".is_empty") } };
        }
        if (e.TryGetProperty("is_null", out var isNull))
        {
            Only(e, path, "is_null");
            return new Condition { IsNull = new IsNullCondition { Key = PayloadKey(isNull, path + ".is_null") } };
        }
        if (e.TryGetProperty("has_id", out var hasId))
        {
            Only(e, path, "has_id");
            Expect(hasId, JsonValueKind.Array, path + ".has_id", "a list of point ids");
            var ids = new HasIdCondition();
            var i = 0;
            foreach (var id in hasId.EnumerateArray()) ids.HasId.Add(PointId(id, $"{path}.has_id[{i++}]"));
            return new Condition { HasId = ids };
        }
        if (e.TryGetProperty("has_vector", out var hasVector))
        {
            Only(e, path, "has_vector");
            return new Condition { HasVector = new HasVectorCondition { HasVector = String(hasVector, path + ".has_vector") } };
        }
        if (e.TryGetProperty("slice", out var slice))
        {
            Only(e, path, "slice");
            var at = path + ".slice";
            Expect(slice, JsonValueKind.Object, at, "an object with `total` and `index`");
            var s = new SliceCondition();
            foreach (var p in slice.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "total": s.Total = checked((uint)UInt64(p.Value, at + ".total", minimum: 1, maximum: uint.MaxValue)); break;
                    case "index": s.Index = checked((uint)UInt64(p.Value, at + ".index", maximum: uint.MaxValue)); break;
                    default: throw Unknown(at, p.Name);
                }
            }
            Require(slice, at, "total", "index");
            if (s.Index >= s.Total) throw new FilterException(at + ".index", $"is {s.Index}, which is not below `total` ({s.Total})");
            return new Condition { Slice = s };
        }
        if (e.TryGetProperty("nested", out var nested))
        {
            Only(e, path, "nested");
            var at = path + ".nested";
            Expect(nested, JsonValueKind.Object, at, "an object with `key` and `filter`");
            var n = new NestedCondition();
            foreach (var p in nested.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "key": n.Key = String(p.Value, at + ".key"); break;
                    case "filter": n.Filter = ReadFilter(p.Value, at + ".filter"); break;
                    default: throw Unknown(at, p.Name);
                }
            }
            Require(nested, at, "key", "filter");
            return new Condition { Nested = n };
        }
        // What is left is a nested filter (an empty object among them, which matches every point, as in Qdrant).
        return new Condition { Filter = ReadFilter(e, path) };
    }

    private static FieldCondition ReadField(JsonElement e, string path)
    {
        var field = new FieldCondition();
        var conditions = 0;
        foreach (var p in e.EnumerateObject())
        {
            var at = path + "." + p.Name;
            if (p.Name == "key")
            {
                field.Key = String(p.Value, at);
                continue;
            }
            if (p.Value.ValueKind == JsonValueKind.Null) continue;
            conditions++;
            switch (p.Name)
            {
                case "match": field.Match = ReadMatch(p.Value, at); break;
                case "range":
                    if (IsDatetimeRange(p.Value)) field.DatetimeRange = ReadDatetimeRange(p.Value, at);
                    else field.Range = ReadRange(p.Value, at);
                    break;
                case "geo_bounding_box":
                    Expect(p.Value, JsonValueKind.Object, at, "an object with `top_left` and `bottom_right`");
                    var box = new GeoBoundingBox();
                    foreach (var b in p.Value.EnumerateObject())
                    {
                        switch (b.Name)
                        {
                            case "top_left": box.TopLeft = GeoPoint(b.Value, at + ".top_left"); break;
                            case "bottom_right": box.BottomRight = GeoPoint(b.Value, at + ".bottom_right"); break;
                            default: throw Unknown(at, b.Name);
                        }
                    }
                    Require(p.Value, at, "top_left", "bottom_right");
                    field.GeoBoundingBox = box;
                    break;
                case "geo_radius":
                    Expect(p.Value, JsonValueKind.Object, at, "an object with `center` and `radius`");
                    var radius = new GeoRadius();
                    foreach (var r in p.Value.EnumerateObject())
                    {
                        switch (r.Name)
                        {
                            case "center": radius.Center = GeoPoint(r.Value, at + ".center"); break;
                            case "radius": radius.Radius = Radius(r.Value, at + ".radius"); break;
                            default: throw Unknown(at, r.Name);
                        }
                    }
                    Require(p.Value, at, "center", "radius");
                    field.GeoRadius = radius;
                    break;
                case "geo_polygon":
                    Expect(p.Value, JsonValueKind.Object, at, "an object with `exterior` (and `interiors`)");
                    var polygon = new GeoPolygon();
                    foreach (var g in p.Value.EnumerateObject())
                    {
                        switch (g.Name)
                        {
                            case "exterior": polygon.Exterior = LineString(g.Value, at + ".exterior"); break;
                            case "interiors":
                                if (g.Value.ValueKind == JsonValueKind.Null) break;
                                Expect(g.Value, JsonValueKind.Array, at + ".interiors", "a list of line strings");
                                var i = 0;
                                foreach (var line in g.Value.EnumerateArray()) polygon.Interiors.Add(LineString(line, $"{at}.interiors[{i++}]"));
                                break;
                            default: throw Unknown(at, g.Name);
                        }
                    }
                    Require(p.Value, at, "exterior");
                    field.GeoPolygon = polygon;
                    break;
                case "values_count":
                    var count = new ValuesCount();
                    foreach (var (bound, n) in Bounds(p.Value, at, (v, where) => UInt64(v, where)))
                    {
                        if (bound == "lt") count.Lt = n;
                        else if (bound == "gt") count.Gt = n;
                        else if (bound == "gte") count.Gte = n;
                        else count.Lte = n;
                    }
                    field.ValuesCount = count;
                    break;
                case "is_empty":
                    field.IsEmpty = Bool(p.Value, at);
                    break;
                case "is_null":
                    field.IsNull = Bool(p.Value, at);
                    break;
                default:
                    throw Unknown(path, p.Name,
                        "`key`, `match`, `range`, `geo_bounding_box`, `geo_radius`, `geo_polygon`, `values_count`, `is_empty`, `is_null`");
            }
        }
        if (!e.TryGetProperty("key", out _)) throw new FilterException(path, "has no `key`");
        // Qdrant refuses a field condition without any condition ("At least one field condition must be specified").
        if (conditions == 0) throw new FilterException(path, "names a `key` but no condition on it");
        return field;
    }

    private static Match ReadMatch(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "a match object");
        var names = e.EnumerateObject().Select(p => p.Name).ToArray();
        if (names.Length != 1)
            throw new FilterException(path, "must hold exactly one of `value`, `text`, `text_any`, `phrase`, `prefix`, `any`, `except`");
        var p = e.EnumerateObject().First();
        var at = path + "." + p.Name;
        switch (p.Name)
        {
            case "value":
                return p.Value.ValueKind switch
                {
                    JsonValueKind.String => new Match { Keyword = p.Value.GetString()! },
                    JsonValueKind.True or JsonValueKind.False => new Match { Boolean = p.Value.GetBoolean() },
                    JsonValueKind.Number => new Match { Integer = Int64(p.Value, at) },
                    _ => throw new FilterException(at, "must be a string, an integer or a boolean"),
                };
            case "text": return new Match { Text = String(p.Value, at) };
            case "text_any": return new Match { TextAny = String(p.Value, at) };
            case "phrase": return new Match { Phrase = String(p.Value, at) };
            case "prefix": return new Match { Prefix = String(p.Value, at) };
            case "any":
            case "except":
                Expect(p.Value, JsonValueKind.Array, at, "a list of strings or of integers");
                var items = p.Value.EnumerateArray().ToArray();
                // An empty list is read as keywords, as Qdrant's untagged AnyVariants picks its first variant.
                if (items.All(x => x.ValueKind == JsonValueKind.String))
                {
                    var strings = new RepeatedStrings();
                    strings.Strings.AddRange(items.Select(x => x.GetString()!));
                    return p.Name == "any" ? new Match { Keywords = strings } : new Match { ExceptKeywords = strings };
                }
                if (items.All(x => x.ValueKind == JsonValueKind.Number))
                {
                    var integers = new RepeatedIntegers();
                    for (var i = 0; i < items.Length; i++) integers.Integers.Add(Int64(items[i], $"{at}[{i}]"));
                    return p.Name == "any" ? new Match { Integers = integers } : new Match { ExceptIntegers = integers };
                }
                throw new FilterException(at, "must be a list of strings or a list of integers, not a mix");
            default:
                throw Unknown(path, p.Name, "`value`, `text`, `text_any`, `phrase`, `prefix`, `any`, `except`");
        }
    }

    /// <summary>Qdrant's untagged RangeInterface tries a number range first: a range with any string bound is a datetime range.</summary>
    private static bool IsDatetimeRange(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.String);

    private static Range ReadRange(JsonElement e, string path)
    {
        var range = new Range();
        foreach (var (bound, v) in Bounds(e, path, Float))
        {
            if (bound == "lt") range.Lt = v;
            else if (bound == "gt") range.Gt = v;
            else if (bound == "gte") range.Gte = v;
            else range.Lte = v;
        }
        return range;
    }

    private static DatetimeRange ReadDatetimeRange(JsonElement e, string path)
    {
        var range = new DatetimeRange();
        foreach (var (bound, v) in Bounds(e, path, Timestamp))
        {
            if (bound == "lt") range.Lt = v;
            else if (bound == "gt") range.Gt = v;
            else if (bound == "gte") range.Gte = v;
            else range.Lte = v;
        }
        return range;
    }

    /// <summary>The bounds of a range or values_count (<c>lt</c>, <c>gt</c>, <c>gte</c>, <c>lte</c>; null ones left out), each read by <paramref name="read"/>.</summary>
    private static List<(string Bound, T Value)> Bounds<T>(JsonElement e, string path, Func<JsonElement, string, T> read)
    {
        Expect(e, JsonValueKind.Object, path, "an object of `lt`, `gt`, `gte`, `lte`");
        var bounds = new List<(string, T)>(4);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name is not ("lt" or "gt" or "gte" or "lte")) throw Unknown(path, p.Name, "`lt`, `gt`, `gte`, `lte`");
            if (p.Value.ValueKind != JsonValueKind.Null) bounds.Add((p.Name, read(p.Value, path + "." + p.Name)));
        }
        return bounds;
    }

    /// <summary>
    /// An RFC 3339 date-time (Qdrant's DateTimePayloadType also reads one without an offset, as UTC, and a date
    /// alone as its midnight UTC).
    /// </summary>
    private static Timestamp Timestamp(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.String) throw new FilterException(path, "must be a date-time string (a datetime range has only date-time bounds)");
        var text = e.GetString()!;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
            throw new FilterException(path, $"\"{Short(text)}\" is not an RFC 3339 date-time");
        return Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(when);
    }

    private static GeoPoint GeoPoint(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "an object with `lat` and `lon`");
        var point = new GeoPoint();
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "lat": point.Lat = Float(p.Value, path + ".lat"); break;
                case "lon": point.Lon = Float(p.Value, path + ".lon"); break;
                default: throw Unknown(path, p.Name, "`lat`, `lon`");
            }
        }
        Require(e, path, "lat", "lon");
        return point;
    }

    private static GeoLineString LineString(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "an object with `points`");
        var line = new GeoLineString();
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name != "points") throw Unknown(path, p.Name, "`points`");
            Expect(p.Value, JsonValueKind.Array, path + ".points", "a list of geo points");
            var i = 0;
            foreach (var g in p.Value.EnumerateArray()) line.Points.Add(GeoPoint(g, $"{path}.points[{i++}]"));
        }
        Require(e, path, "points");
        return line;
    }

    /// <summary><c>{"key": "..."}</c> (PayloadField).</summary>
    private static string PayloadKey(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Object, path, "an object with `key`");
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name != "key") throw Unknown(path, p.Name, "`key`");
        }
        Require(e, path, "key");
        return String(e.GetProperty("key"), path + ".key");
    }

    private static global::Qdrant.Client.Grpc.PointId PointId(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var n)) return new global::Qdrant.Client.Grpc.PointId { Num = n };
        if (e.ValueKind == JsonValueKind.String && Guid.TryParse(e.GetString(), out var g)) return new global::Qdrant.Client.Grpc.PointId { Uuid = g.ToString("D") };
        throw new FilterException(path, "must be an unsigned integer or a UUID");
    }

    // ---- scalars ----

    private static void Expect(JsonElement e, JsonValueKind kind, string path, string what)
    {
        if (e.ValueKind != kind) throw new FilterException(path, $"must be {what}, not {Describe(e)}");
    }

    private static string String(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.String, path, "a string");
        return e.GetString()!;
    }

    private static bool Bool(JsonElement e, string path) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new FilterException(path, $"must be true or false, not {Describe(e)}"),
    };

    private static double Float(JsonElement e, string path)
    {
        Expect(e, JsonValueKind.Number, path, "a number");
        return e.GetDouble();
    }

    /// <summary>
    /// gRPC's GeoRadius holds the radius as a float32 where REST has a double: taken when float32 keeps it to the
    /// millimetre, refused otherwise rather than searching a different circle.
    /// </summary>
    private static float Radius(JsonElement e, string path)
    {
        var meters = Float(e, path);
        var f = (float)meters;
        if (!float.IsFinite(f) || Math.Abs(f - meters) > 1e-3)
            throw new FilterException(path, $"is {e.GetRawText()} m, which gRPC's float32 radius cannot hold to the millimetre; read over REST");
        return f;
    }

    private static long Int64(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v)) return v;
        throw new FilterException(path, e.ValueKind == JsonValueKind.Number
            ? $"is {e.GetRawText()}, not an integer that fits 64 bits (Qdrant matches int64 values only)"
            : $"must be an integer, not {Describe(e)}");
    }

    private static ulong UInt64(JsonElement e, string path, ulong minimum = 0, ulong maximum = ulong.MaxValue)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var v) && v >= minimum && v <= maximum) return v;
        throw new FilterException(path, $"must be an integer from {minimum} to {maximum}, not {Describe(e)}");
    }

    private static void Only(JsonElement e, string path, string name)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name != name) throw new FilterException(path, $"has `{name}` beside `{p.Name}`; a condition is one of its kinds");
        }
    }

    private static void Require(JsonElement e, string path, params string[] names)
    {
        foreach (var n in names)
        {
            if (!e.TryGetProperty(n, out var v) || v.ValueKind == JsonValueKind.Null) throw new FilterException(path, $"has no `{n}`");
        }
    }

    private static FilterException Unknown(string path, string name, string? expected = null) =>
        new(path, $"has an unknown field `{name}`" + (expected is null ? "" : $" (expected {expected})"));

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Short(e.GetString()!)}\"",
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Short(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
