using System.Text.Json;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>The validator on small hand-made documents: each keyword, both OpenAPI dialects.</summary>
public sealed class JsonSchemaValidatorTests
{
    private static OpenApiDocument Doc(string schemas, string version = "3.0.3", string paths = "{}", string servers = "[]") =>
        OpenApiDocument.Parse($$$"""
            {"openapi": "{{{version}}}", "info": {"title": "t", "version": "1"}, "servers": {{{servers}}},
             "paths": {{{paths}}}, "components": {"schemas": {{{schemas}}}}}
            """, "test.json");

    private static IReadOnlyList<SchemaError> Errors(OpenApiDocument doc, string schema, string json)
    {
        using var value = JsonDocument.Parse(json);
        var errors = JsonSchemaValidator.Validate(value.RootElement, doc.GetSchema(schema));
        Assert.Equal(errors.Count == 0, JsonSchemaValidator.IsValid(value.RootElement, doc.GetSchema(schema)));
        return errors;
    }

    [Fact]
    public void Recursive_schema_reports_the_nested_offending_value()
    {
        var doc = Doc("""
            {"Tree": {"type": "object", "required": ["name"], "properties": {
               "name": {"type": "string"},
               "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}}
            """);
        Assert.Empty(Errors(doc, "Tree", """{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}"""));
        var e = Assert.Single(Errors(doc, "Tree", """{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}, {"name": 4}]}]}"""));
        Assert.Equal("$.children[0].children[1].name", e.InstancePath);
        Assert.Equal("#/components/schemas/Tree/properties/name/type", e.SchemaLocation);
        Assert.Equal("$.children[0].children[1].name: expected string, got number 4 (#/components/schemas/Tree/properties/name/type)", e.ToString());
    }

    [Fact]
    public void Nullable_in_openapi_3_0_allows_null_only_where_declared()
    {
        var doc = Doc("""
            {"Maybe": {"type": "string", "nullable": true},
             "Never": {"type": "string"},
             "MaybeEnum": {"type": "string", "enum": ["a", "b"], "nullable": true},
             "Option": {"anyOf": [{"type": "integer"}, {"nullable": true}]}}
            """);
        Assert.Empty(Errors(doc, "Maybe", "null"));
        Assert.Single(Errors(doc, "Never", "null"));
        Assert.Empty(Errors(doc, "MaybeEnum", "null"));
        Assert.Single(Errors(doc, "MaybeEnum", "\"c\""));
        Assert.Empty(Errors(doc, "Option", "null"));
        Assert.Empty(Errors(doc, "Option", "3"));
        // Read literally, the bare {nullable: true} would accept "x" and the anyOf could never fail.
        var e = Assert.Single(Errors(doc, "Option", "\"x\""));
        Assert.Equal("expected integer | null, got string \"x\"", e.Message);
    }

    [Fact]
    public void Openapi_3_1_type_arrays_and_whole_numbers_are_honoured()
    {
        var v31 = Doc("""{"N": {"type": ["integer", "null"]}, "C": {"const": "x"}}""", "3.1.0");
        Assert.Empty(Errors(v31, "N", "null"));
        Assert.Empty(Errors(v31, "N", "1.0"));
        Assert.Single(Errors(v31, "N", "1.5"));
        Assert.Single(Errors(v31, "C", "\"y\""));
        var v30 = Doc("""{"N": {"type": "integer"}}""");
        Assert.Single(Errors(v30, "N", "1.0"));
        Assert.Single(Errors(v30, "N", "1e2"));
    }

    [Theory]
    [InlineData("uint64", "18446744073709551615", true)]
    [InlineData("uint64", "18446744073709551616", false)]
    [InlineData("uint64", "-1", false)]
    [InlineData("uint64", "0", true)]
    [InlineData("int64", "-9223372036854775808", true)]
    [InlineData("int64", "9223372036854775808", false)]
    [InlineData("int32", "2147483647", true)]
    [InlineData("int32", "2147483648", false)]
    [InlineData("uint32", "4294967296", false)]
    [InlineData("uint8", "255", true)]
    [InlineData("uint8", "256", false)]
    [InlineData("uint", "18446744073709551615", true)]
    [InlineData("uint", "-5", false)]
    [InlineData("uint64", "123456789012345678901234567890", false)]
    public void Integer_formats_are_range_checked_from_the_digits(string format, string value, bool valid)
    {
        var doc = Doc($$$"""{"N": {"type": "integer", "format": "{{{format}}}"}}""");
        var errors = Errors(doc, "N", value);
        Assert.Equal(valid, errors.Count == 0);
        if (!valid) Assert.Equal($"value {value} is not valid for format {format}", Assert.Single(errors).Message);
    }

    [Theory]
    [InlineData("float", "3.4e38", true)]
    [InlineData("float", "3.5e38", false)]
    [InlineData("float", "3.4028235e38", true)] // float.MaxValue as serde_json (ryu) writes it
    [InlineData("float", "-3.4028235E+38", true)] // and as .NET writes it
    [InlineData("float", "3.4028236e38", false)] // rounds to infinity as a float32
    [InlineData("float", "-1e-50", true)]
    [InlineData("double", "1e308", true)]
    [InlineData("double", "1e400", false)]
    public void Float_formats_are_range_checked(string format, string value, bool valid)
    {
        var doc = Doc($$$"""{"N": {"type": "number", "format": "{{{format}}}"}}""");
        Assert.Equal(valid, Errors(doc, "N", value).Count == 0);
    }

    [Fact]
    public void Minimum_and_maximum_compare_exactly_near_the_64_bit_limits()
    {
        var doc = Doc("""{"N": {"type": "integer", "minimum": 1, "maximum": 18446744073709551614}}""");
        Assert.Empty(Errors(doc, "N", "18446744073709551614"));
        Assert.Equal("value 18446744073709551615 is greater than 18446744073709551614", Assert.Single(Errors(doc, "N", "18446744073709551615")).Message);
        Assert.Equal("value 0 is less than 1", Assert.Single(Errors(doc, "N", "0")).Message);
    }

    [Fact]
    public void Exclusive_minimum_works_in_both_dialects()
    {
        var v30 = Doc("""{"P": {"type": "number", "minimum": 0, "exclusiveMinimum": true}}""");
        Assert.Single(Errors(v30, "P", "0"));
        Assert.Empty(Errors(v30, "P", "0.5"));
        var v31 = Doc("""{"P": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}""", "3.1.0");
        Assert.Single(Errors(v31, "P", "0"));
        Assert.Single(Errors(v31, "P", "1"));
        Assert.Empty(Errors(v31, "P", "0.5"));
    }

    [Fact]
    public void One_of_reports_the_branch_whose_tag_matches()
    {
        // Qdrant's ConsensusThreadStatus: the branches differ by the enum of one property.
        var doc = Doc("""
            {"S": {"oneOf": [
              {"type": "object", "required": ["state", "since"], "properties": {"state": {"type": "string", "enum": ["working"]}, "since": {"type": "string"}}},
              {"type": "object", "required": ["state"], "properties": {"state": {"type": "string", "enum": ["stopped"]}}},
              {"type": "object", "required": ["state", "err"], "properties": {"state": {"type": "string", "enum": ["failed"]}, "err": {"type": "string"}}}]}}
            """);
        Assert.Empty(Errors(doc, "S", """{"state": "failed", "err": "boom"}"""));
        var e = Assert.Single(Errors(doc, "S", """{"state": "failed"}"""));
        Assert.Equal("required property 'err' is missing", e.Message);
        Assert.Equal("#/components/schemas/S/oneOf/2/required", e.SchemaLocation);
    }

    [Fact]
    public void One_of_matching_two_branches_is_an_error()
    {
        var doc = Doc("""{"S": {"oneOf": [{"type": "integer"}, {"type": "number"}]}}""");
        Assert.Empty(Errors(doc, "S", "1.5"));
        Assert.Contains("more than one branch of oneOf", Assert.Single(Errors(doc, "S", "1")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void All_of_collects_every_branch_and_not_rejects_a_match()
    {
        var doc = Doc("""
            {"A": {"allOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]},
             "N": {"not": {"type": "string"}}}
            """);
        Assert.Equal(2, Errors(doc, "A", "{}").Count);
        Assert.Empty(Errors(doc, "N", "1"));
        Assert.Single(Errors(doc, "N", "\"s\""));
    }

    [Fact]
    public void String_keywords_count_code_points_and_search_the_pattern()
    {
        var doc = Doc("""
            {"S": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z😀]+$"},
             "U": {"type": "string", "format": "uuid"}}
            """);
        Assert.Empty(Errors(doc, "S", "\"😀😀😀\""));
        Assert.Single(Errors(doc, "S", "\"😀😀😀😀\""));
        Assert.Single(Errors(doc, "S", "\"a\""));
        Assert.Single(Errors(doc, "S", "\"aB\""));
        Assert.Empty(Errors(doc, "U", "\"5C56C793-69F3-4FBF-87E6-C4BF54C28C26\""));
        Assert.Single(Errors(doc, "U", "\"5c56c79369f34fbf87e6c4bf54c28c26\""));
        Assert.Single(Errors(doc, "U", "\"5c56c793-69f3-4fbf-87e6-c4bf54c28c2g\""));
    }

    [Fact]
    public void Array_keywords_and_property_names_that_are_not_identifiers()
    {
        var doc = Doc("""
            {"A": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true, "items": {"type": "integer"}},
             "M": {"type": "object", "additionalProperties": {"type": "integer"}}}
            """);
        Assert.Single(Errors(doc, "A", "[]"));
        Assert.Single(Errors(doc, "A", "[1, 2, 3]"));
        Assert.Single(Errors(doc, "A", "[1, 1]"));
        Assert.Equal("$['image-embeddings']", Assert.Single(Errors(doc, "M", """{"image-embeddings": "x"}""")).InstancePath);
        Assert.Equal("$['']", Assert.Single(Errors(doc, "M", """{"": "x"}""")).InstancePath);
    }

    [Fact]
    public void Siblings_of_a_ref_are_ignored_in_3_0_and_applied_in_3_1()
    {
        const string schemas = """{"S": {"type": "string"}, "R": {"$ref": "#/components/schemas/S", "maxLength": 2}}""";
        Assert.Empty(Errors(Doc(schemas), "R", "\"abc\""));
        Assert.Single(Errors(Doc(schemas, "3.1.0"), "R", "\"abc\""));
    }

    [Fact]
    public void Errors_stop_at_the_limit()
    {
        var doc = Doc("""{"A": {"type": "array", "items": {"type": "string"}}}""");
        using var value = JsonDocument.Parse("[" + string.Join(",", Enumerable.Range(0, 500)) + "]");
        Assert.Equal(10, JsonSchemaValidator.Validate(value.RootElement, doc.GetSchema("A"), maxErrors: 10).Count);
    }

    [Fact]
    public void Server_base_path_is_honoured_and_literal_segments_win()
    {
        var doc = Doc("{}", paths: """
            {"/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": {}}},
             "/items/latest": {"get": {"responses": {}}},
             "/files/{name}.{ext}": {"get": {"responses": {}}}}
            """, servers: """[{"url": "https://{host}/api/{version}", "variables": {"host": {"default": "x"}, "version": {"default": "v1"}}}]""");
        Assert.Equal(["/api/v1"], doc.BasePaths);
        Assert.Equal("/items/{id}", doc.FindOperation("GET", "/api/v1/items/3")!.Operation.PathTemplate);
        Assert.Equal("/items/{id}", doc.FindOperation("get", "/items/3")!.Operation.PathTemplate);
        Assert.Equal("/items/latest", doc.FindOperation("GET", "/api/v1/items/latest")!.Operation.PathTemplate);
        var file = doc.FindOperation("GET", "/files/report.tar.gz")!;
        Assert.Equal("report", file.PathValues["name"]);
        Assert.Equal("tar.gz", file.PathValues["ext"]);
        Assert.Null(doc.FindOperation("POST", "/items/3"));
        Assert.Equal(["GET"], doc.MethodsAt("/items/3"));
    }
}
