using System.Text;
using System.Text.Json.Nodes;
using VecMigrate.Testing.Contracts;
using static VecMigrate.Engine.Tests.Contracts.ContractAssert;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>Real-shaped Pinecone 2026-04 bodies against the data and control plane documents.</summary>
public sealed class PineconeContractTests
{
    private const string Fetched = """
        {
          "vectors": {
            "doc-1#chunk-1": { "id": "doc-1#chunk-1", "values": [0.1, 0.2, 0.3],
                               "metadata": { "genre": "documentary", "year": 2019, "tags": ["a", "b"], "public": true } },
            "doc-2": { "id": "doc-2", "values": [0.4, 0.5, 0.6],
                       "sparseValues": { "indices": [10, 45, 16], "values": [0.5, 0.5, 0.2] } }
          },
          "namespace": "movies",
          "usage": { "readUnits": 1 }
        }
        """;

    private const string Upsert = """
        {
          "vectors": [
            { "id": "doc-1#chunk-1", "values": [0.1, 0.2, 0.3], "metadata": { "genre": "drama", "year": 2020, "tags": ["x"] } },
            { "id": "doc-2", "values": [0.4, 0.5, 0.6], "sparseValues": { "indices": [1, 2], "values": [0.5, 0.25] } }
          ],
          "namespace": "movies"
        }
        """;

    private const string DescribeIndex = """
        {
          "name": "movies",
          "dimension": 1024,
          "metric": "cosine",
          "host": "movies-c01b5b5.svc.aped-4627-b74a.pinecone.io",
          "deletion_protection": "disabled",
          "tags": { "env": "test" },
          "spec": { "serverless": { "cloud": "aws", "region": "us-east-1",
                                    "read_capacity": { "mode": "OnDemand", "status": { "state": "Ready" } } } },
          "status": { "ready": true, "state": "Ready" },
          "vector_type": "dense"
        }
        """;

    private static readonly Dictionary<string, string> Headers = new()
    {
        ["Api-Key"] = "pclocal-test",
        ["X-Pinecone-Api-Version"] = "2026-04",
        ["Content-Type"] = "application/json",
    };

    private static ContractCheck Check => VendorContracts.Load().PineconeCheck();

    [ContractFact]
    public void List_request_and_page_pass()
    {
        NoViolations(Check.Check(Request("GET", "/vectors/list?namespace=movies&prefix=doc-1%23&limit=100&paginationToken=Tm90aGluZw%3D%3D", headers: Headers) with
        {
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = Encoding.UTF8.GetBytes("""
                {"vectors": [{"id": "doc-1#chunk-1"}, {"id": "doc-1#chunk-2"}], "pagination": {"next": "Tm90aGluZyB0byBzZWU="},
                 "namespace": "movies", "usage": {"readUnits": 1}}
                """),
        }));
    }

    [ContractFact]
    public void Fetch_with_repeated_ids_and_its_response_pass()
    {
        NoViolations(Check.Check(Request("GET", "/vectors/fetch?ids=doc-1%23chunk-1&ids=doc-2&namespace=movies", headers: Headers) with
        {
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = Encoding.UTF8.GetBytes(Fetched),
        }));
    }

    [ContractFact]
    public void Fetch_without_ids_is_a_violation()
    {
        Single(Check.Check(Request("GET", "/vectors/fetch?namespace=movies")), "?ids", "required query parameter 'ids' is missing");
    }

    [ContractFact]
    public void Fetched_vector_without_id_is_reported_at_its_map_entry()
    {
        var body = Edit(Fetched, root => root["vectors"]!["doc-2"]!.AsObject().Remove("id"));
        var v = Single(Check.Check(Response("GET", "/vectors/fetch?ids=doc-2", 200, body)), "$.vectors['doc-2']", "Required properties [\"id\"] are not present");
        Assert.Equal("#/components/schemas/Vector/required", v.SchemaLocation);
    }

    [ContractFact]
    public void Describe_index_stats_passes()
    {
        NoViolations(Check.Check(Response("POST", "/describe_index_stats", 200, """
            {"namespaces": {"": {"vectorCount": 50000}, "movies": {"vectorCount": 3}}, "dimension": 1024,
             "indexFullness": 0, "totalVectorCount": 50003, "metric": "cosine", "vectorType": "dense"}
            """, requestBody: "{}")));
    }

    [ContractFact]
    public void Describe_index_stats_with_a_string_count_is_a_violation()
    {
        Single(Check.Check(Response("POST", "/describe_index_stats", 200, """{"namespaces": {"movies": {"vectorCount": "3"}}}""", "{}")),
            "$.namespaces.movies.vectorCount", "Value is \"string\" but should be \"integer\"");
    }

    [ContractFact]
    public void Upsert_request_and_response_pass()
    {
        NoViolations(Check.Check(Request("POST", "/vectors/upsert", Upsert, Headers) with
        {
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = """{"upsertedCount": 2}"""u8.ToArray(),
        }));
    }

    [ContractFact]
    public void Broken_request_and_broken_response_are_both_reported_with_their_paths()
    {
        // One upsert exchange: the client sends a value as a string, the server answers the count as a string.
        var body = Edit(Upsert, root => root["vectors"]![1]!["values"]![2] = "0.6");
        var violations = Check.Check(Request("POST", "/vectors/upsert", body, Headers) with
        {
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = """{"upsertedCount": "2"}"""u8.ToArray(),
        });
        var request = Single(violations, "$.vectors[1].values[2]", "Value is \"string\" but should be \"number\"");
        Assert.Equal(ContractDirection.Request, request.Direction);
        Assert.Equal("#/components/schemas/Vector/properties/values/items/type", request.SchemaLocation);
        var response = Single(violations, "$.upsertedCount", "Value is \"string\" but should be \"integer\"");
        Assert.Equal(ContractDirection.Response, response.Direction);
        Assert.Equal(200, response.Status);
        Assert.Equal("#/components/schemas/UpsertResponse/properties/upsertedCount/type", response.SchemaLocation);
        Assert.Equal(2, violations.Count);
    }

    [ContractFact]
    public void Upsert_of_more_than_1000_vectors_breaks_the_documented_limit()
    {
        var body = Edit(Upsert, root =>
        {
            var vectors = new JsonArray();
            for (var i = 0; i < 1001; i++) vectors.Add(new JsonObject { ["id"] = $"v{i}", ["values"] = new JsonArray(0.1, 0.2) });
            root["vectors"] = vectors;
        });
        var v = Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors", "Value should have at most 1000 items");
        // The document writes maxLength on the array; it is read as the item count it means (see ContractDocument).
        Assert.Equal("#/components/schemas/UpsertRequest/properties/vectors/maxItems", v.SchemaLocation);
    }

    [ContractFact]
    public void Upsert_of_an_empty_vector_list_breaks_the_documented_minimum()
    {
        Single(Check.Check(Request("POST", "/vectors/upsert", """{"vectors": []}""")), "$.vectors", "Value should have at least 1 items");
    }

    [ContractFact]
    public void Upsert_of_a_vector_longer_than_20000_dimensions_breaks_the_documented_limit()
    {
        var body = Edit(Upsert, root => root["vectors"]![0]!["values"] = new JsonArray(Enumerable.Repeat(0.5, 20001).Select(x => (JsonNode?)x).ToArray()));
        Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors[0].values", "Value should have at most 20000 items");
    }

    [ContractFact]
    public void Upsert_of_an_id_longer_than_512_characters_is_a_violation()
    {
        var body = Edit(Upsert, root => root["vectors"]![1]!["id"] = new string('x', 513));
        Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors[1].id", "Value should be at most 512 characters");
    }

    [ContractFact]
    public void Upsert_of_a_vector_without_id_is_a_violation()
    {
        var body = Edit(Upsert, root => root["vectors"]![0]!.AsObject().Remove("id"));
        Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors[0]", "Required properties [\"id\"] are not present");
    }

    [ContractFact]
    public void Metadata_that_is_not_an_object_is_a_violation()
    {
        var body = Edit(Upsert, root => root["vectors"]![0]!["metadata"] = new JsonArray("genre", "drama"));
        Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors[0].metadata", "Value is \"array\" but should be \"object\"");
    }

    [ContractFact]
    public void Metadata_value_types_are_not_constrained_by_the_2026_04_document()
    {
        // Pinecone accepts only strings, numbers, booleans and lists of strings as metadata values, and
        // no nulls; the document says only "type: object". This pins that gap down: if a later document
        // states the value types, this test fails and the stand-ins get the stricter check for free.
        var body = Edit(Upsert, root => root["vectors"]![0]!["metadata"] = JsonNode.Parse("""{"nested": {"a": 1}, "missing": null}"""));
        NoViolations(Check.Check(Request("POST", "/vectors/upsert", body)));
    }

    [ContractFact]
    public void Sparse_values_without_indices_are_a_violation()
    {
        var body = Edit(Upsert, root => root["vectors"]![1]!["sparseValues"]!.AsObject().Remove("indices"));
        Single(Check.Check(Request("POST", "/vectors/upsert", body)), "$.vectors[1].sparseValues", "Required properties [\"indices\"] are not present");
    }

    [ContractFact]
    public void Data_plane_error_body_passes()
    {
        NoViolations(Check.Check(Response("POST", "/vectors/upsert", 400,
            """{"code": 3, "message": "Vector dimension 3 does not match the dimension of the index 1024", "details": []}""", Upsert)));
        NoViolations(Check.Check(Response("GET", "/vectors/list", 429, """{"code": 8, "message": "Too many requests"}""")));
    }

    [ContractFact]
    public void Missing_api_version_header_and_api_key_are_violations_when_headers_are_given()
    {
        var violations = Check.Check(Request("POST", "/describe_index_stats", "{}", new Dictionary<string, string> { ["Content-Type"] = "application/json" }));
        Says(violations, "required header 'X-Pinecone-Api-Version' is missing");
        Says(violations, "request carries none of the documented credentials (header Api-Key)");
        Assert.Equal(2, violations.Count);
    }

    [ContractFact]
    public void Unknown_query_parameter_is_a_violation()
    {
        Single(Check.Check(Request("GET", "/vectors/list?namespace=movies&pageSize=10")), "?pageSize", "query parameter 'pageSize' is not in the document");
    }

    [ContractFact]
    public void Unknown_path_is_a_violation()
    {
        var v = Assert.Single(Check.Check(Request("GET", "/vectors/scan")));
        Assert.Equal("GET /vectors/scan is not in the document (pinecone-db-data-2026-04.json, pinecone-db-control-2026-04.json)", v.Message);
    }

    [ContractFact]
    public void Describe_index_of_a_serverless_index_passes()
    {
        NoViolations(Check.Check(Request("GET", "/indexes/movies", headers: Headers) with
        {
            Status = 200,
            ResponseContentType = "application/json",
            ResponseBody = Encoding.UTF8.GetBytes(DescribeIndex),
        }));
    }

    [ContractFact]
    public void Describe_index_of_a_pod_index_passes()
    {
        var body = Edit(DescribeIndex, root => root["spec"] = JsonNode.Parse("""
            {"pod": {"environment": "us-east1-gcp", "pod_type": "p1.x1", "pods": 1, "replicas": 1, "shards": 1}}
            """));
        NoViolations(Check.Check(Response("GET", "/indexes/movies", 200, body)));
    }

    [ContractFact]
    public void Describe_index_without_host_is_a_violation()
    {
        var body = Edit(DescribeIndex, root => root.AsObject().Remove("host"));
        Single(Check.Check(Response("GET", "/indexes/movies", 200, body)), "$", "Required properties [\"host\"] are not present");
    }

    [ContractFact]
    public void Read_capacity_is_checked_against_the_branch_its_discriminator_names()
    {
        var body = Edit(DescribeIndex, root => root["spec"]!["serverless"]!["read_capacity"] = JsonNode.Parse("""
            {"mode": "Dedicated", "status": {"state": "Ready"}}
            """));
        var v = Single(Check.Check(Response("GET", "/indexes/movies", 200, body)),
            "$.spec.serverless.read_capacity", "Required properties [\"dedicated\"] are not present");
        Assert.Equal("#/components/schemas/ReadCapacityDedicatedSpecResponse/required", v.SchemaLocation);
    }

    [ContractFact]
    public void Spec_naming_an_unknown_deployment_matches_no_branch()
    {
        var body = Edit(DescribeIndex, root => root["spec"] = JsonNode.Parse("""{"edge": {"region": "x"}}"""));
        var v = Single(Check.Check(Response("GET", "/indexes/movies", 200, body)), "$.spec.edge", "All values fail against the false schema");
        Assert.EndsWith("/additionalProperties", v.SchemaLocation, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Metric_outside_the_vendor_enum_is_a_violation()
    {
        var body = Edit(DescribeIndex, root => root["metric"] = "Cosine");
        var v = Single(Check.Check(Response("GET", "/indexes/movies", 200, body)), "$.metric", "got string \"Cosine\", allowed \"cosine\", \"euclidean\", \"dotproduct\"");
        // The document lists the metrics as x-enum; it is checked as the enum it means (see ContractDocument).
        Assert.Equal("#/components/schemas/IndexModel/properties/metric/enum", v.SchemaLocation);
    }

    [ContractFact]
    public void Undocumented_status_is_a_violation()
    {
        var v = Assert.Single(Check.Check(Response("GET", "/indexes/movies", 418, "{}")));
        Assert.Equal(ContractDirection.Response, v.Direction);
        Assert.StartsWith("status 418 is not documented for GET /indexes/{index_name}", v.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Control_plane_error_body_passes_and_a_wrong_one_does_not()
    {
        NoViolations(Check.Check(Response("GET", "/indexes/nope", 404,
            """{"status": 404, "error": {"code": "NOT_FOUND", "message": "Resource nope not found"}}""")));
        Single(Check.Check(Response("GET", "/indexes/nope", 404, """{"status": 404, "error": {"code": "NOT_FOUND"}}""")),
            "$.error", "Required properties [\"message\"] are not present");
    }
}
