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
        Assert.Equal("#/components/schemas/ScrollRequest", scroll.RequestSchema!.Resolved.Location);
        Assert.NotNull(scroll.ResponseSchema(200));
        Assert.Equal("#/components/schemas/ErrorResponse", scroll.ResponseSchema(404)!.Resolved.Location);
        Assert.Equal("4XX", scroll.ResponseFor(404)!.StatusKey);
        Assert.Equal("default", scroll.ResponseFor(503)!.StatusKey);
        Assert.Contains(scroll.Parameters, p => p.Name == "timeout" && p.In == ParameterLocation.Query);
    }
}
