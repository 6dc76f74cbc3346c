using System.Text.Json;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>
/// What is still our own around Microsoft.OpenApi and JsonSchema.Net, on small hand-made OpenAPI 3.0 documents: the
/// readings of vendor intent, the number formats, which anyOf/oneOf branch is reported, instance paths and schema
/// locations, and finding an operation by its concrete path. The keywords themselves are the libraries' business.
/// </summary>
public sealed class ContractDocumentTests
{
    private static ContractDocument Doc(string schemas, string paths = "{}", string servers = "[]") =>
        ContractDocument.Parse($$$"""
            {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "servers": {{{servers}}},
             "paths": {{{paths}}}, "components": {"schemas": {{{schemas}}}}}
            """, "test.json");

    private static IReadOnlyList<SchemaFinding> Errors(ContractDocument doc, string schema, string json)
    {
        using var value = JsonDocument.Parse(json);
        return doc.Validate("#/components/schemas/" + schema, value.RootElement);
    }

    [Fact]
    public void Nullable_becomes_a_type_array_and_a_bare_nullable_branch_accepts_only_null()
    {
        var doc = Doc("""
            {"Maybe": {"type": "string", "nullable": true},
             "Never": {"type": "string"},
             "Option": {"anyOf": [{"type": "integer", "format": "uint64"}, {"nullable": true}]}}
            """);
        Assert.Equal("3.0.3", doc.Version);
        Assert.Empty(Errors(doc, "Maybe", "null"));
        Assert.Single(Errors(doc, "Never", "null"));
        Assert.Empty(Errors(doc, "Option", "null"));
        Assert.Empty(Errors(doc, "Option", "3"));
        // Read literally, the bare {nullable: true} would accept "x" and the anyOf could never fail.
        var e = Assert.Single(Errors(doc, "Option", "\"x\""));
        Assert.Equal("$: expected integer (uint64) | null, got string \"x\" (#/components/schemas/Option/anyOf)", e.ToString());
    }

    [Fact]
    public void Length_on_an_array_counts_items_and_x_enum_is_an_enum()
    {
        var doc = Doc("""
            {"Values": {"type": "array", "minLength": 1, "maxLength": 2, "items": {"type": "number"}},
             "Id": {"type": "string", "minLength": 2},
             "Metric": {"type": "string", "x-enum": ["cosine", "dotproduct"]},
             "Both": {"type": "string", "enum": ["a"], "x-enum": ["a", "b"]}}
            """);
        Assert.Equal("#/components/schemas/Values/minItems", Assert.Single(Errors(doc, "Values", "[]")).SchemaLocation);
        Assert.Equal("#/components/schemas/Values/maxItems", Assert.Single(Errors(doc, "Values", "[1, 2, 3]")).SchemaLocation);
        Assert.Equal("#/components/schemas/Id/minLength", Assert.Single(Errors(doc, "Id", "\"x\"")).SchemaLocation);
        var metric = Assert.Single(Errors(doc, "Metric", "\"Cosine\""));
        Assert.Equal("#/components/schemas/Metric/enum", metric.SchemaLocation);
        Assert.EndsWith("got string \"Cosine\", allowed \"cosine\", \"dotproduct\"", metric.Message, StringComparison.Ordinal);
        Assert.Single(Errors(doc, "Both", "\"b\"")); // an enum of its own wins over x-enum
    }

    [Fact]
    public void Discriminator_mapping_decides_the_branch()
    {
        var doc = Doc("""
            {"Capacity": {"discriminator": {"propertyName": "mode", "mapping": {"OnDemand": "#/components/schemas/OnDemand", "Dedicated": "#/components/schemas/Dedicated"}},
                          "oneOf": [{"$ref": "#/components/schemas/OnDemand"}, {"$ref": "#/components/schemas/Dedicated"}]},
             "OnDemand": {"type": "object", "required": ["mode"], "properties": {"mode": {"type": "string"}}, "additionalProperties": false},
             "Dedicated": {"type": "object", "required": ["mode", "nodes"], "properties": {"mode": {"type": "string"}, "nodes": {"type": "integer"}}}}
            """);
        Assert.Empty(Errors(doc, "Capacity", """{"mode": "OnDemand"}"""));
        Assert.Empty(Errors(doc, "Capacity", """{"mode": "Dedicated", "nodes": 2}"""));
        // Without the mapping, {"mode": "Dedicated"} would pass as the OnDemand shape.
        var e = Assert.Single(Errors(doc, "Capacity", """{"mode": "Dedicated"}"""));
        Assert.Equal("#/components/schemas/Dedicated/required", e.SchemaLocation);
    }

    [Theory]
    [InlineData("uint64", "18446744073709551615", true)]
    [InlineData("uint64", "18446744073709551616", false)]
    [InlineData("uint64", "-1", false)]
    [InlineData("uint64", "10.0", false)]
    [InlineData("int64", "-9223372036854775808", true)]
    [InlineData("int64", "9223372036854775808", false)]
    [InlineData("int32", "2147483647", true)]
    [InlineData("int32", "2147483648", false)]
    [InlineData("uint32", "4294967296", false)]
    [InlineData("uint8", "256", false)]
    [InlineData("uint", "18446744073709551615", true)]
    [InlineData("uint", "-5", false)]
    [InlineData("float", "3.4028235e38", true)] // float.MaxValue as serde_json (ryu) writes it
    [InlineData("float", "-3.4028235E+38", true)] // and as .NET writes it
    [InlineData("float", "3.5e38", false)]
    [InlineData("float", "-1e-50", true)]
    [InlineData("double", "1e308", true)]
    [InlineData("double", "1e400", false)]
    public void Number_formats_are_range_checked_from_the_digits(string format, string value, bool valid)
    {
        var type = format is "float" or "double" ? "number" : "integer";
        var errors = Errors(Doc($$$"""{"N": {"type": "{{{type}}}", "format": "{{{format}}}"}}"""), "N", value);
        if (valid) Assert.Empty(errors);
        else Assert.Contains(errors, e => e.Message == $"Value does not match format \"{format}\"");
    }

    [Fact]
    public void Failing_one_of_reports_the_branch_whose_tag_matches_with_its_location()
    {
        // Qdrant's ConsensusThreadStatus: the branches differ by the enum of one property.
        var doc = Doc("""
            {"S": {"oneOf": [
              {"type": "object", "required": ["state", "since"], "properties": {"state": {"type": "string", "enum": ["working"]}, "since": {"type": "string"}}},
              {"type": "object", "required": ["state"], "properties": {"state": {"type": "string", "enum": ["stopped"]}}},
              {"type": "object", "required": ["state", "err"], "properties": {"state": {"type": "string", "enum": ["failed"]}, "err": {"type": "string"}}}]},
             "L": {"type": "object", "properties": {"list": {"type": "array", "items": {"type": "integer"}},
                                                    "map": {"type": "object", "additionalProperties": false}}}}
            """);
        Assert.Empty(Errors(doc, "S", """{"state": "failed", "err": "boom"}"""));
        var e = Assert.Single(Errors(doc, "S", """{"state": "failed"}"""));
        Assert.Equal("#/components/schemas/S/oneOf/2/required", e.SchemaLocation);
        // Below a property, JsonSchema.Net 8.0.5 names these subschemas with a segment too many; reported as the document has them.
        Assert.Equal("#/components/schemas/L/properties/list/items/type", Assert.Single(Errors(doc, "L", """{"list": [1, "x"]}""")).SchemaLocation);
        Assert.Equal("#/components/schemas/L/properties/map/additionalProperties", Assert.Single(Errors(doc, "L", """{"map": {"a": 1}}""")).SchemaLocation);
    }

    [Fact]
    public void Instance_paths_name_array_items_and_awkward_property_names()
    {
        var doc = Doc("""{"M": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}}}""");
        Assert.Equal("$['image-embeddings'][1]", Assert.Single(Errors(doc, "M", """{"image-embeddings": [1, "x"]}""")).InstancePath);
        Assert.Equal("$['']", Assert.Single(Errors(doc, "M", """{"": "x"}""")).InstancePath);
        Assert.Equal("$['0']", Assert.Single(Errors(doc, "M", """{"0": "x"}""")).InstancePath);
        Assert.Equal("$.ok_name[0]", Assert.Single(Errors(doc, "M", """{"ok_name": ["x"]}""")).InstancePath);
    }

    [Fact]
    public void Server_base_path_is_honoured_and_literal_segments_win()
    {
        var doc = Doc("{}", paths: """
            {"/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": {"200": {"description": "ok"}}}},
             "/items/latest": {"get": {"responses": {"200": {"description": "ok"}}}}}
            """, servers: """[{"url": "https://{host}/api/{version}", "variables": {"host": {"default": "x"}, "version": {"default": "v1"}}}]""");
        Assert.Equal(["/api/v1"], doc.BasePaths);
        Assert.Equal("/items/{id}", doc.FindOperation("GET", "/api/v1/items/3")!.Operation.PathTemplate);
        Assert.Equal("/items/{id}", doc.FindOperation("get", "/items/3")!.Operation.PathTemplate);
        Assert.Equal("/items/latest", doc.FindOperation("GET", "/api/v1/items/latest")!.Operation.PathTemplate);
        Assert.Equal("a b", doc.FindOperation("GET", "/items/a%20b")!.PathValues["id"]);
        Assert.Null(doc.FindOperation("POST", "/items/3"));
        Assert.Equal(["GET"], doc.MethodsAt("/items/3"));
    }
}
