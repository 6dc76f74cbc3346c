using Microsoft.OpenApi;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>Finding shared/contracts beside a checkout, as on developers' machines and in CI.</summary>
public sealed class VendorContractsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vecmigrate-contracts-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Checkout()
    {
        var repo = Path.Combine(_root, "clone");
        var bin = Path.Combine(repo, "tests", "VecMigrate.Engine.Tests", "bin", "Debug", "net10.0");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(repo, "VecMigrate.sln"), "");
        return bin;
    }

    [Fact]
    public void Contracts_beside_the_checkout_are_found_from_the_test_binaries()
    {
        var bin = Checkout();
        var contracts = Path.Combine(_root, "shared", "contracts");
        Directory.CreateDirectory(contracts);
        File.WriteAllText(Path.Combine(contracts, VendorContracts.QdrantFile), "{}");

        Assert.True(VendorContracts.TryLocate(bin, null, out var found, out _));
        Assert.Equal(contracts, found);
    }

    [Fact]
    public void Absent_contracts_give_a_skip_reason_naming_where_they_were_expected()
    {
        var bin = Checkout();

        Assert.False(VendorContracts.TryLocate(bin, null, out _, out var reason));
        Assert.StartsWith($"vendor contracts not found at {Path.Combine(_root, "shared", "contracts")} ", reason, StringComparison.Ordinal);
        Assert.EndsWith("; contract tests skipped", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variable_overrides_the_search()
    {
        var bin = Checkout();
        var elsewhere = Path.Combine(_root, "elsewhere");
        Directory.CreateDirectory(elsewhere);

        Assert.False(VendorContracts.TryLocate(bin, elsewhere, out _, out var reason));
        Assert.Contains(VendorContracts.EnvironmentVariable, reason, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(elsewhere, VendorContracts.QdrantFile), "{}");
        Assert.True(VendorContracts.TryLocate(bin, elsewhere, out var found, out _));
        Assert.Equal(elsewhere, found);
    }

    [ContractFact]
    public void The_three_vendor_documents_load()
    {
        var contracts = VendorContracts.Load();
        Assert.Equal("3.0.1", contracts.Qdrant.Version);
        Assert.StartsWith("3.0", contracts.PineconeData.Version, StringComparison.Ordinal);
        Assert.Contains(contracts.PineconeControl.Operations, o => o.PathTemplate == "/indexes/{index_name}" && o.Method == "GET");
        var scroll = contracts.Qdrant.FindOperation("POST", "/collections/docs/points/scroll")!.Operation;
        Assert.Equal("scroll_points", scroll.OperationId);
        Assert.Equal("#/paths/~1collections~1{collection_name}~1points~1scroll/post/requestBody/content/application~1json/schema", scroll.RequestBody!.JsonSchemaLocation);
        Assert.Equal("#/components/schemas/ScrollRequest", contracts.Qdrant.Find(scroll.RequestBody.JsonSchemaLocation!)!.Value.GetProperty("$ref").GetString());
        Assert.NotNull(scroll.ResponseFor(200)!.JsonSchemaLocation);
        Assert.Equal("#/components/schemas/ErrorResponse", contracts.Qdrant.Find(scroll.ResponseFor(404)!.JsonSchemaLocation!)!.Value.GetProperty("$ref").GetString());
        Assert.Equal("4XX", scroll.ResponseFor(404)!.Key);
        Assert.Equal("default", scroll.ResponseFor(503)!.Key);
        Assert.Contains(scroll.Parameters, p => p.Name == "timeout" && p.In == ParameterLocation.Query);
    }

    [ContractFact]
    public void The_schemas_are_validated_as_openapi_3_1_where_nullable_is_a_type_array()
    {
        var qdrant = VendorContracts.Load().Qdrant;
        Assert.StartsWith("3.1", qdrant.Root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var limit = qdrant.Find("#/components/schemas/ScrollRequest/properties/limit")!.Value;
        Assert.False(limit.TryGetProperty("nullable", out _));
        Assert.Equal(["integer", "null"], limit.GetProperty("type").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal));
        // Qdrant's Option<T> is anyOf: [{$ref: T}, {nullable: true}]; the bare branch is read as "or null".
        var offset = qdrant.Find("#/components/schemas/ScrollRequest/properties/offset/anyOf/1")!.Value;
        Assert.Equal("null", offset.GetProperty("type").GetString());
    }
}
