using System.Text.Json;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>The vendors' own examples are real-world values: a validator that rejects one is too strict (or a reading
/// of the document, see <see cref="ContractDocument"/>, is wrong). Walks the OpenAPI 3.1 copy the schemas are built from.</summary>
public sealed class VendorExampleTests
{
    [ContractFact]
    public void Every_schema_example_in_the_vendor_documents_satisfies_its_schema()
    {
        var contracts = VendorContracts.Load();
        foreach (var doc in new[] { contracts.Qdrant, contracts.PineconeData, contracts.PineconeControl })
        {
            var checkedExamples = 0;
            var failures = new List<string>();
            Walk(doc.Root, "#", (example, location) =>
            {
                checkedExamples++;
                failures.AddRange(doc.Validate(location, example).Select(e => $"example at {location}: {e}"));
            });
            Assert.True(failures.Count == 0, $"{doc.Name}:\n" + string.Join("\n", failures));
            Assert.True(checkedExamples >= 70, $"{doc.Name}: only {checkedExamples} examples found");
        }
    }

    /// <summary>Calls <paramref name="found"/> for each schema that has an <c>example</c>, with the schema's location.</summary>
    private static void Walk(JsonElement e, string location, Action<JsonElement, string> found)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            var inSchema = location.Contains("/schemas/", StringComparison.Ordinal) || location.Contains("/schema/", StringComparison.Ordinal)
                || location.EndsWith("/schema", StringComparison.Ordinal);
            if (inSchema && e.TryGetProperty("example", out var example)) found(example, location);
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name is "example" or "examples") continue;
                Walk(p.Value, location + "/" + p.Name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal), found);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in e.EnumerateArray()) Walk(item, location + "/" + i++, found);
        }
    }
}
