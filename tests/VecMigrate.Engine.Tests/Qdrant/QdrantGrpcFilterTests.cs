using Qdrant.Client.Grpc;
using VecMigrate.Engine.Qdrant;
using Range = Qdrant.Client.Grpc.Range;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// The REST filter (JSON, as Qdrant 1.19's OpenAPI document defines it) against the gRPC filter the official client's
/// own <see cref="Conditions"/> helpers build for the same thing: one test per condition kind, and refusals that
/// name where the filter is wrong.
/// </summary>
public sealed class QdrantGrpcFilterTests
{
    private static Filter Translate(string json) => QdrantGrpcFilter.FromJson(json, "docs");

    private static void Same(Filter expected, string json) => Assert.Equal(expected, Translate(json));

    private static Filter Must(params Condition[] conditions)
    {
        var f = new Filter();
        f.Must.AddRange(conditions);
        return f;
    }

    private static VecMigrateException Refused(string json, string where)
    {
        var ex = Assert.Throws<VecMigrateException>(() => Translate(json));
        Assert.Equal("QdrantInvalidFilter", ex.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, ex.Kind);
        Assert.Equal("docs", ex.Target);
        Assert.Contains($"`{where}`", ex.Message);
        return ex;
    }

    [Fact]
    public void Must_should_and_must_not_take_one_condition_or_a_list()
    {
        var oslo = Conditions.MatchKeyword("city", "Oslo");
        var expected = new Filter { Must = { oslo }, Should = { oslo, Conditions.MatchKeyword("city", "Bergen") }, MustNot = { Conditions.Match("year", 2020L) } };
        Same(expected, """
            {"must": {"key": "city", "match": {"value": "Oslo"}},
             "should": [{"key": "city", "match": {"value": "Oslo"}}, {"key": "city", "match": {"value": "Bergen"}}],
             "must_not": [{"key": "year", "match": {"value": 2020}}]}
            """);
        Same(new Filter(), """{"must": null, "should": [], "must_not": null}""");
    }

    [Fact]
    public void Min_should()
    {
        var expected = new Filter
        {
            MinShould = new MinShould { MinCount = 2, Conditions = { Conditions.MatchKeyword("a", "x"), Conditions.HasVector("img"), Conditions.IsNull("b") } },
        };
        Same(expected, """
            {"min_should": {"min_count": 2, "conditions": [
                {"key": "a", "match": {"value": "x"}}, {"has_vector": "img"}, {"is_null": {"key": "b"}}]}}
            """);
        Refused("""{"min_should": {"min_count": 0, "conditions": []}}""", "filter.min_should.min_count");
        Refused("""{"min_should": {"conditions": []}}""", "filter.min_should");
    }

    [Fact]
    public void Match_value_is_keyword_integer_or_boolean()
    {
        Same(Must(Conditions.MatchKeyword("k", "v"), Conditions.Match("n", -9223372036854775808L), Conditions.Match("b", true)), """
            {"must": [{"key": "k", "match": {"value": "v"}}, {"key": "n", "match": {"value": -9223372036854775808}},
                      {"key": "b", "match": {"value": true}}]}
            """);
        // Qdrant matches int64 values only: a larger integer or a fraction would match nothing or something else.
        Assert.Contains("64 bits", Refused("""{"must": {"key": "n", "match": {"value": 18446744073709551615}}}""", "filter.must.match.value").Message);
        Refused("""{"must": {"key": "n", "match": {"value": 1.5}}}""", "filter.must.match.value");
        Refused("""{"must": {"key": "n", "match": {"value": null}}}""", "filter.must.match.value");
    }

    [Fact]
    public void Match_text_text_any_phrase_and_prefix()
    {
        Same(Must(Conditions.MatchText("t", "quick fox"), Conditions.MatchTextAny("t", "quick fox"), Conditions.MatchPhrase("t", "quick fox"),
                Conditions.MatchPrefix("t", "qu")), """
            {"must": [{"key": "t", "match": {"text": "quick fox"}}, {"key": "t", "match": {"text_any": "quick fox"}},
                      {"key": "t", "match": {"phrase": "quick fox"}}, {"key": "t", "match": {"prefix": "qu"}}]}
            """);
        Refused("""{"must": {"key": "t", "match": {"text": "a", "phrase": "b"}}}""", "filter.must.match");
        Refused("""{"must": {"key": "t", "match": {"substring": "a"}}}""", "filter.must.match");
    }

    [Fact]
    public void Match_any_and_except_of_strings_or_integers()
    {
        Same(Must(Conditions.Match("c", new[] { "Oslo", "Bergen" }), Conditions.Match("n", new long[] { 1, 2, 3 }),
                Conditions.MatchExcept("c", new[] { "Oslo" }), Conditions.MatchExcept("n", new long[] { 7 })), """
            {"must": [{"key": "c", "match": {"any": ["Oslo", "Bergen"]}}, {"key": "n", "match": {"any": [1, 2, 3]}},
                      {"key": "c", "match": {"except": ["Oslo"]}}, {"key": "n", "match": {"except": [7]}}]}
            """);
        Refused("""{"must": {"key": "c", "match": {"any": ["a", 1]}}}""", "filter.must.match.any");
        Refused("""{"must": {"key": "c", "match": {"except": "a"}}}""", "filter.must.match.except");
    }

    [Fact]
    public void Range_of_numbers()
    {
        Same(Must(Conditions.Range("price", new Range { Gte = 1.5, Lt = 100 }), Conditions.Range("n", new Range { Gt = -1, Lte = 1e300 })), """
            {"must": [{"key": "price", "range": {"gte": 1.5, "lt": 100, "gt": null}}, {"key": "n", "range": {"gt": -1, "lte": 1e300}}]}
            """);
        Refused("""{"must": {"key": "p", "range": {"gte": 1, "between": 2}}}""", "filter.must.range");
    }

    [Fact]
    public void Range_of_date_times()
    {
        var expected = Must(Conditions.DatetimeRange("at",
            lt: new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            gte: new DateTime(2023, 2, 8, 8, 49, 0, DateTimeKind.Utc)));
        Same(expected, """{"must": {"key": "at", "range": {"lt": "2024-01-01T00:00:00Z", "gte": "2023-02-08T10:49:00+02:00"}}}""");
        Same(expected, """{"must": {"key": "at", "range": {"lt": "2024-01-01", "gte": "2023-02-08 08:49:00"}}}"""); // no offset: UTC
        Refused("""{"must": {"key": "at", "range": {"lt": "2024-01-01T00:00:00Z", "gte": 5}}}""", "filter.must.range.gte");
        Refused("""{"must": {"key": "at", "range": {"lt": "next tuesday"}}}""", "filter.must.range.lt");
    }

    [Fact]
    public void Geo_bounding_box_radius_and_polygon()
    {
        var exterior = new GeoLineString { Points = { new GeoPoint { Lat = 0, Lon = 0 }, new GeoPoint { Lat = 1, Lon = 0 }, new GeoPoint { Lat = 1, Lon = 1 }, new GeoPoint { Lat = 0, Lon = 0 } } };
        var hole = new GeoLineString { Points = { new GeoPoint { Lat = 0.2, Lon = 0.2 }, new GeoPoint { Lat = 0.3, Lon = 0.2 }, new GeoPoint { Lat = 0.3, Lon = 0.3 }, new GeoPoint { Lat = 0.2, Lon = 0.2 } } };
        Same(Must(Conditions.GeoBoundingBox("loc", 52.52, 13.40, 52.49, 13.45), Conditions.GeoRadius("loc", 52.52, 13.40, 1000.5f),
                Conditions.GeoPolygon("loc", exterior, [hole])), """
            {"must": [
              {"key": "loc", "geo_bounding_box": {"top_left": {"lat": 52.52, "lon": 13.40}, "bottom_right": {"lon": 13.45, "lat": 52.49}}},
              {"key": "loc", "geo_radius": {"center": {"lat": 52.52, "lon": 13.40}, "radius": 1000.5}},
              {"key": "loc", "geo_polygon": {
                 "exterior": {"points": [{"lat": 0, "lon": 0}, {"lat": 1, "lon": 0}, {"lat": 1, "lon": 1}, {"lat": 0, "lon": 0}]},
                 "interiors": [{"points": [{"lat": 0.2, "lon": 0.2}, {"lat": 0.3, "lon": 0.2}, {"lat": 0.3, "lon": 0.3}, {"lat": 0.2, "lon": 0.2}]}]}}]}
            """);
        // gRPC carries the radius as a float32: a radius it cannot keep to the millimetre is refused, not changed.
        Assert.Contains("float32", Refused("""{"must": {"key": "loc", "geo_radius": {"center": {"lat": 0, "lon": 0}, "radius": 12345678.9}}}""",
            "filter.must.geo_radius.radius").Message);
        Refused("""{"must": {"key": "loc", "geo_bounding_box": {"top_left": {"lat": 1, "lon": 1}}}}""", "filter.must.geo_bounding_box");
        Refused("""{"must": {"key": "loc", "geo_radius": {"center": {"lat": 1}, "radius": 5}}}""", "filter.must.geo_radius.center");
    }

    [Fact]
    public void Values_count()
    {
        Same(Must(Conditions.ValuesCount("tags", new ValuesCount { Gte = 2, Lt = 10 })), """{"must": {"key": "tags", "values_count": {"gte": 2, "lt": 10}}}""");
        Refused("""{"must": {"key": "tags", "values_count": {"gte": -1}}}""", "filter.must.values_count.gte");
    }

    [Fact]
    public void Is_empty_and_is_null_as_conditions_and_as_field_flags()
    {
        Same(Must(Conditions.IsEmpty("tags"), Conditions.IsNull("note"),
                new Condition { Field = new FieldCondition { Key = "tags", IsEmpty = true } },
                new Condition { Field = new FieldCondition { Key = "note", IsNull = false } }), """
            {"must": [{"is_empty": {"key": "tags"}}, {"is_null": {"key": "note"}}, {"key": "tags", "is_empty": true}, {"key": "note", "is_null": false}]}
            """);
        Refused("""{"must": {"is_empty": "tags"}}""", "filter.must.is_empty");
        Refused("""{"must": {"is_null": {"key": "a", "extra": 1}}}""", "filter.must.is_null");
    }

    [Fact]
    public void Has_id_with_integers_and_uuids()
    {
        var uuid = Guid.Parse("550e8400-e29b-41d4-a716-446655440000");
        var expected = Must(new Condition { HasId = new HasIdCondition { HasId = { new global::Qdrant.Client.Grpc.PointId { Num = 1 }, new global::Qdrant.Client.Grpc.PointId { Num = ulong.MaxValue }, uuid } } });
        Same(expected, """{"must": {"has_id": [1, 18446744073709551615, "550E8400-E29B-41D4-A716-446655440000"]}}""");
        Same(Must(Conditions.HasId(new ulong[] { 5, 6 })), """{"must": {"has_id": [5, 6]}}""");
        Refused("""{"must": {"has_id": [-1]}}""", "filter.must.has_id[0]");
        Refused("""{"must": {"has_id": ["not-a-uuid"]}}""", "filter.must.has_id[0]");
    }

    [Fact]
    public void Has_vector()
    {
        Same(Must(Conditions.HasVector("image")), """{"must": {"has_vector": "image"}}""");
        Refused("""{"must": {"has_vector": ["image"]}}""", "filter.must.has_vector");
    }

    [Fact]
    public void Slice()
    {
        Same(Must(new Condition { Slice = new SliceCondition { Total = 4, Index = 1 } }), """{"must": {"slice": {"total": 4, "index": 1}}}""");
        Refused("""{"must": {"slice": {"total": 4, "index": 4}}}""", "filter.must.slice.index");
        Refused("""{"must": {"slice": {"total": 0, "index": 0}}}""", "filter.must.slice.total");
    }

    [Fact]
    public void Nested_conditions_and_nested_filters()
    {
        var inner = Must(Conditions.MatchKeyword("name", "x"), Conditions.Range("n", new Range { Gt = 1 }));
        var expected = new Filter
        {
            Must = { Conditions.Nested("items", inner) },
            Should = { Conditions.Filter(new Filter { MustNot = { Conditions.HasVector("v") } }), Conditions.Filter(new Filter()) },
        };
        Same(expected, """
            {"must": {"nested": {"key": "items", "filter": {"must": [{"key": "name", "match": {"value": "x"}}, {"key": "n", "range": {"gt": 1}}]}}},
             "should": [{"must_not": {"has_vector": "v"}}, {}]}
            """);
        Refused("""{"must": {"nested": {"key": "items"}}}""", "filter.must.nested");
        Refused("""{"must": {"nested": {"key": "items", "filter": {"must": {"key": "a", "match": {"value": []}}}}}}""", "filter.must.nested.filter.must.match.value");
    }

    [Fact]
    public void Unknown_or_malformed_parts_are_refused_where_they_are()
    {
        Refused("""{"must": {"key": "a", "match": {"value": 1}, "near": 5}}""", "filter.must");
        Refused("""{"must": {"key": "a"}}""", "filter.must"); // a key without a condition
        Refused("""{"must": {"key": 5, "match": {"value": 1}}}""", "filter.must.key");
        Refused("""{"must": {"has_id": [1], "has_vector": "v"}}""", "filter.must");
        Refused("""{"filter": {}}""", "filter");
        Refused("""{"must": [1]}""", "filter.must[0]");
        Refused("""[]""", "filter");
        var json = Assert.Throws<VecMigrateException>(() => Translate("{"));
        Assert.Equal("QdrantInvalidFilter", json.ErrorId);
    }
}
