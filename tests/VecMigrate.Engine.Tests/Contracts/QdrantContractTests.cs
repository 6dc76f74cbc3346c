using System.Text.Json.Nodes;
using VecMigrate.Testing.Contracts;
using static VecMigrate.Engine.Tests.Contracts.ContractAssert;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>Real-shaped Qdrant bodies against qdrant-openapi.json: the right ones pass, the wrong ones are
/// caught at the right place.</summary>
public sealed class QdrantContractTests
{
    private const string Scroll = "/collections/docs/points/scroll";

    private const string CollectionInfo = """
        {
          "result": {
            "status": "green",
            "optimizer_status": "ok",
            "indexed_vectors_count": 0,
            "points_count": 3,
            "segments_count": 2,
            "config": {
              "params": {
                "vectors": {
                  "image": { "size": 4, "distance": "Cosine" },
                  "text": { "size": 8, "distance": "Dot", "on_disk": true, "datatype": "float16",
                            "hnsw_config": { "m": 32 }, "multivector_config": null }
                },
                "shard_number": 1,
                "replication_factor": 1,
                "write_consistency_factor": 1,
                "on_disk_payload": true,
                "sparse_vectors": { "keywords": { "index": { "on_disk": false }, "modifier": "idf" } }
              },
              "hnsw_config": { "m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0, "on_disk": false },
              "optimizer_config": {
                "deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                "max_segment_size": null, "memmap_threshold": null, "indexing_threshold": 10000,
                "flush_interval_sec": 5, "max_optimization_threads": null
              },
              "wal_config": { "wal_capacity_mb": 32, "wal_segments_ahead": 0 },
              "quantization_config": null,
              "strict_mode_config": { "enabled": false }
            },
            "payload_schema": {
              "city": { "data_type": "keyword", "params": { "type": "keyword", "is_tenant": false }, "points": 3 }
            }
          },
          "status": "ok",
          "time": 0.000231
        }
        """;

    private const string ScrollPage = """
        {
          "result": {
            "points": [
              { "id": 18446744073709551615,
                "payload": { "city": "London", "tags": ["a", "b"], "nested": { "x": null, "n": 1.5 } },
                "vector": {
                  "image": [0.1, 0.2, 0.3, 0.4],
                  "keywords": { "indices": [1, 42], "values": [0.5, 0.25] },
                  "colbert": [[0.1, 0.2], [0.3, 0.4]]
                } },
              { "id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "payload": null, "vector": [0.1, -0.2, 3e-5] },
              { "id": 7, "payload": {}, "vector": null, "shard_key": "region_1", "order_value": 3 }
            ],
            "next_page_offset": "0b1fd7f6-5e0a-4d64-9c3c-1f2a8e4b7c10"
          },
          "status": "ok",
          "time": 0.0012
        }
        """;

    private static ContractCheck Check => VendorContracts.Load().QdrantCheck();

    private static IReadOnlyList<ContractViolation> ScrollResponse(string body) =>
        Check.Check(Response("POST", Scroll, 200, body, """{"limit": 10}"""));

    [ContractFact]
    public void Collection_info_with_named_dense_and_sparse_vectors_passes()
    {
        NoViolations(Check.Check(Response("GET", "/collections/docs", 200, CollectionInfo)));
    }

    [ContractFact]
    public void Collection_info_with_a_single_unnamed_vector_passes()
    {
        var single = Edit(CollectionInfo, root =>
            root["result"]!["config"]!["params"]!["vectors"] = JsonNode.Parse("""{"size": 4, "distance": "Euclid"}"""));
        NoViolations(Check.Check(Response("GET", "/collections/docs", 200, single)));
    }

    [ContractFact]
    public void Scroll_requests_with_uint64_and_uuid_offsets_pass()
    {
        NoViolations(Check.Check(Request("POST", Scroll, """
            { "limit": 100, "offset": 18446744073709551615, "with_payload": true, "with_vector": true,
              "filter": { "must": [ { "key": "city", "match": { "value": "London" } } ] } }
            """)));
        NoViolations(Check.Check(Request("POST", Scroll + "?consistency=majority&timeout=30", """
            { "limit": 100, "offset": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
              "with_payload": { "include": ["city"] }, "with_vector": ["image", "keywords"], "order_by": null }
            """)));
        NoViolations(Check.Check(Request("POST", Scroll + "?consistency=2", """{ "offset": null, "with_payload": ["city"] }""")));
    }

    [ContractFact]
    public void Scroll_response_with_uint64_uuid_named_sparse_and_multivectors_passes()
    {
        NoViolations(ScrollResponse(ScrollPage));
        NoViolations(ScrollResponse("""{"result": {"points": [], "next_page_offset": null}, "status": "ok", "time": 0}"""));
    }

    [ContractFact]
    public void Error_bodies_pass_for_4xx_and_default_statuses()
    {
        const string error = """{"status": {"error": "Not found: Collection `nope` doesn't exist!"}, "time": 0.00001, "result": null}""";
        NoViolations(Check.Check(Response("GET", "/collections/nope", 404, error)));
        NoViolations(Check.Check(Response("POST", Scroll, 500, """{"status": {"error": "Service internal error"}, "time": 0.1}""")));
    }

    [ContractFact]
    public void Negative_point_id_is_reported_as_breaking_uint64_at_its_path()
    {
        var violations = ScrollResponse(ScrollPage.Replace("\"id\": 7", "\"id\": -1", StringComparison.Ordinal));
        var v = Single(violations, "$.result.points[2].id", "Value does not match format \"uint64\"");
        Assert.Equal(ContractDirection.Response, v.Direction);
        Assert.Equal(200, v.Status);
        Assert.Equal("#/components/schemas/ExtendedPointId/anyOf/0/format", v.SchemaLocation);
        Assert.EndsWith("$.result.points[2].id: Value does not match format \"uint64\" (#/components/schemas/ExtendedPointId/anyOf/0/format)", v.Message, StringComparison.Ordinal);
        // The integer branch's minimum (0) is broken too; the uuid branch, whose type does not fit, is not reported.
        Single(violations, "$.result.points[2].id", "-1 should be at least 0");
        Assert.Equal(2, violations.Count);
    }

    [ContractFact]
    public void Point_id_beyond_uint64_is_rejected_from_its_digits()
    {
        // 2^64: a double would round it to a valid-looking value.
        var violations = ScrollResponse(ScrollPage.Replace("18446744073709551615", "18446744073709551616", StringComparison.Ordinal));
        Single(violations, "$.result.points[0].id", "does not match format \"uint64\"");
    }

    [ContractFact]
    public void Fractional_point_id_matches_neither_integer_nor_uuid()
    {
        var violations = ScrollResponse(ScrollPage.Replace("\"id\": 7", "\"id\": 1.5", StringComparison.Ordinal));
        var v = Single(violations, "$.result.points[2].id", "expected integer (uint64) | string (uuid), got number 1.5");
        Assert.Equal("#/components/schemas/ExtendedPointId/anyOf", v.SchemaLocation);
    }

    [ContractFact]
    public void Point_id_that_is_not_a_uuid_is_reported_against_the_uuid_branch()
    {
        var violations = ScrollResponse(ScrollPage.Replace("5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "not-a-uuid", StringComparison.Ordinal));
        var v = Single(violations, "$.result.points[1].id", "Value does not match format \"uuid\"");
        Assert.Equal("#/components/schemas/ExtendedPointId/anyOf/1/format", v.SchemaLocation);
        Assert.Single(violations);
    }

    [ContractFact]
    public void Uuid_next_page_offset_must_be_a_uuid_too()
    {
        var violations = ScrollResponse(ScrollPage.Replace("0b1fd7f6-5e0a-4d64-9c3c-1f2a8e4b7c10", "0b1fd7f6", StringComparison.Ordinal));
        Single(violations, "$.result.next_page_offset", "does not match format \"uuid\"");
    }

    [ContractFact]
    public void Broken_request_and_broken_response_are_both_reported_with_their_paths()
    {
        // One scroll exchange: the client sends the limit as a string, the server answers a point without its id.
        var violations = Check.Check(Response("POST", Scroll, 200,
            ScrollPage.Replace("\"id\": 7, ", "", StringComparison.Ordinal), """{"limit": "10", "with_payload": true}"""));
        var request = Single(violations, "$.limit", "Value is \"string\" but should be \"integer, null\"");
        Assert.Equal(ContractDirection.Request, request.Direction);
        Assert.Equal("#/components/schemas/ScrollRequest/properties/limit/type", request.SchemaLocation);
        var response = Single(violations, "$.result.points[2]", "Required properties [\"id\"] are not present");
        Assert.Equal(ContractDirection.Response, response.Direction);
        Assert.Equal(200, response.Status);
        Assert.Equal("#/components/schemas/Record/required", response.SchemaLocation);
        Assert.Equal(2, violations.Count);
    }

    [ContractFact]
    public void Success_body_without_result_is_a_violation()
    {
        var violations = ScrollResponse("""{"status": "ok", "time": 0.001}""");
        Single(violations, "$", "required property 'result' is missing");
    }

    [ContractFact]
    public void Scroll_result_without_points_is_a_violation()
    {
        Single(ScrollResponse("""{"result": {"next_page_offset": null}, "status": "ok", "time": 0}"""),
            "$.result", "Required properties [\"points\"] are not present");
    }

    [ContractFact]
    public void Dense_vector_containing_a_string_is_reported_at_the_element()
    {
        var violations = ScrollResponse(ScrollPage.Replace("[0.1, -0.2, 3e-5]", "[0.1, \"x\", 3e-5]", StringComparison.Ordinal));
        Single(violations, "$.result.points[1].vector[1]", "Value is \"string\" but should be \"number\"");
        Assert.Single(violations);
    }

    [ContractFact]
    public void Named_vector_containing_a_string_is_reported_at_the_element()
    {
        var violations = ScrollResponse(ScrollPage.Replace("[0.1, 0.2, 0.3, 0.4]", "[0.1, 0.2, true, 0.4]", StringComparison.Ordinal));
        Single(violations, "$.result.points[0].vector.image[2]", "Value is \"boolean\" but should be \"number\"");
    }

    [ContractFact]
    public void Sparse_vector_with_negative_index_is_reported_against_the_sparse_branch()
    {
        var violations = ScrollResponse(ScrollPage.Replace("\"indices\": [1, 42]", "\"indices\": [1, -42]", StringComparison.Ordinal));
        Single(violations, "$.result.points[0].vector.keywords.indices[1]", "does not match format \"uint32\"");
    }

    [ContractFact]
    public void Vector_component_beyond_float_range_is_a_violation()
    {
        var violations = ScrollResponse(ScrollPage.Replace("3e-5", "3e39", StringComparison.Ordinal));
        Single(violations, "$.result.points[1].vector[2]", "does not match format \"float\"");
    }

    [ContractFact]
    public void Unknown_filter_field_is_rejected_where_additional_properties_is_false()
    {
        var violations = Check.Check(Request("POST", Scroll, """{"filter": {"must": [], "mustt": []}}"""));
        var v = Single(violations, "$.filter.mustt", "All values fail against the false schema");
        Assert.Equal(ContractDirection.Request, v.Direction);
        Assert.Equal("#/components/schemas/Filter/additionalProperties", v.SchemaLocation);
    }

    [ContractFact]
    public void Unknown_payload_selector_field_is_reported_against_the_include_selector()
    {
        var violations = Check.Check(Request("POST", Scroll, """{"with_payload": {"include": ["city"], "extra": 1}}"""));
        Single(violations, "$.with_payload.extra", "fail against the false schema");
        Assert.Single(violations);
    }

    [ContractFact]
    public void Wrong_types_are_reported_with_what_was_expected()
    {
        var request = Check.Check(Request("POST", Scroll, """{"limit": "10"}"""));
        Single(request, "$.limit", "Value is \"string\" but should be \"integer, null\"");

        var response = Check.Check(Response("GET", "/collections/docs", 200,
            CollectionInfo.Replace("\"points_count\": 3", "\"points_count\": \"3\"", StringComparison.Ordinal)));
        Single(response, "$.result.points_count", "Value is \"string\" but should be \"integer, null\"");

        var status = Check.Check(Response("GET", "/collections/docs", 200,
            CollectionInfo.Replace("\"status\": \"green\"", "\"status\": \"purple\"", StringComparison.Ordinal)));
        Single(status, "$.result.status", "got string \"purple\", allowed \"green\", \"yellow\", \"grey\", \"red\"");
    }

    [ContractFact]
    public void Limit_of_zero_breaks_the_minimum()
    {
        Single(Check.Check(Request("POST", Scroll, """{"limit": 0}""")), "$.limit", "0 should be at least 1");
    }

    [ContractFact]
    public void Integer_written_with_a_fraction_breaks_the_integer_format()
    {
        // JSON Schema 2020-12 (the schemas' dialect in OpenAPI 3.1) counts 10.0 as an integer; Qdrant's serde does
        // not, and its formats (here uint) are read from the digits, so a fraction is still caught.
        Single(Check.Check(Request("POST", Scroll, """{"limit": 10.0}""")), "$.limit", "Value does not match format \"uint\"");
    }

    [ContractFact]
    public void Upsert_with_a_bad_point_id_reports_the_points_list_branch_not_the_batch_branch()
    {
        var violations = Check.Check(Request("PUT", "/collections/docs/points?wait=true", """
            {"points": [{"id": 1, "vector": [0.1, 0.2], "payload": {"a": 1}}, {"id": -3, "vector": [0.3, 0.4]}]}
            """));
        Single(violations, "$.points[1].id", "Value does not match format \"uint64\"");
        Assert.All(violations, v => Assert.Equal("$.points[1].id", v.InstancePath)); // nothing of the PointsBatch branch
    }

    [ContractFact]
    public void Integer_path_parameter_is_checked()
    {
        NoViolations(Check.Check(Request("GET", "/collections/docs/shards/3/snapshots")));
        Single(Check.Check(Request("GET", "/collections/docs/shards/three/snapshots")), "{shard_id}", "Value is \"string\" but should be \"integer\"");
    }

    [ContractFact]
    public void Query_parameters_are_checked_against_their_schemas()
    {
        Single(Check.Check(Request("POST", Scroll + "?timeout=abc", "{}")), "?timeout", "Value is \"string\" but should be \"integer\"");
        Single(Check.Check(Request("POST", Scroll + "?timeout=0", "{}")), "?timeout", "0 should be at least 1");
        Says(Check.Check(Request("POST", Scroll + "?consistency=some", "{}")), "?consistency");
        NoViolations(Check.Check(Request("PUT", "/collections/docs/points?wait=true&ordering=strong", """{"points": []}""")));
    }

    [ContractFact]
    public void Unknown_query_parameter_is_a_violation()
    {
        var v = Single(Check.Check(Request("POST", Scroll + "?limit=10", "{}")), "?limit", "query parameter 'limit' is not in the document");
        Assert.Equal(ContractDirection.Request, v.Direction);
    }

    [ContractFact]
    public void Unknown_path_is_a_violation()
    {
        var violations = Check.Check(Request("POST", "/foo", "{}"));
        var v = Assert.Single(violations);
        Assert.StartsWith("POST /foo is not in the document", v.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Known_path_with_an_undocumented_method_is_a_violation()
    {
        var v = Assert.Single(Check.Check(Request("DELETE", Scroll)));
        Assert.StartsWith("DELETE /collections/docs/points/scroll is not in the document", v.Message, StringComparison.Ordinal);
        // GET matches too: /collections/{collection_name}/points/{id} with id "scroll".
        Assert.Contains("that path has GET, POST only", v.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Literal_path_segments_win_over_templates()
    {
        var match = VendorContracts.Load().Qdrant.FindOperation("POST", "/collections/aliases");
        Assert.NotNull(match);
        Assert.Equal("/collections/aliases", match.Operation.PathTemplate);
        var scroll = VendorContracts.Load().Qdrant.FindOperation("POST", "/collections/my%20docs/points/scroll");
        Assert.Equal("my docs", scroll!.PathValues["collection_name"]);
    }

    [ContractFact]
    public void Invalid_json_body_is_a_violation()
    {
        Says(ScrollResponse("""{"result": {"points": [}"""), "response body is not valid JSON");
    }

    [ContractFact]
    public void Health_endpoint_with_a_text_body_is_not_validated_as_json()
    {
        var exchange = Request("GET", "/healthz") with
        {
            Status = 200,
            ResponseContentType = "text/plain; charset=utf-8",
            ResponseBody = "healthz check passed"u8.ToArray(),
        };
        NoViolations(Check.Check(exchange));
    }
}
