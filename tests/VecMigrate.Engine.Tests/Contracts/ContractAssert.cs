using System.Text;
using System.Text.Json.Nodes;
using VecMigrate.Testing.Contracts;

namespace VecMigrate.Engine.Tests.Contracts;

/// <summary>Builds exchanges from literal JSON and asserts on the violations a check finds.</summary>
internal static class ContractAssert
{
    public static ContractExchange Request(string method, string pathAndQuery, string? body = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var q = pathAndQuery.IndexOf('?');
        return new ContractExchange(method, q < 0 ? pathAndQuery : pathAndQuery[..q])
        {
            Query = q < 0 ? null : pathAndQuery[q..],
            RequestBody = body is null ? default : Encoding.UTF8.GetBytes(body),
            RequestContentType = body is null ? null : "application/json",
            RequestHeaders = headers,
        };
    }

    public static ContractExchange Response(string method, string pathAndQuery, int status, string body, string? requestBody = null) =>
        Request(method, pathAndQuery, requestBody) with
        {
            Status = status,
            ResponseBody = Encoding.UTF8.GetBytes(body),
            ResponseContentType = "application/json",
        };

    /// <summary>A copy of <paramref name="json"/> changed by <paramref name="edit"/>.</summary>
    public static string Edit(string json, Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(json)!;
        edit(root);
        return root.ToJsonString();
    }

    public static void NoViolations(IReadOnlyList<ContractViolation> violations) =>
        Assert.True(violations.Count == 0, "expected no violations, found:\n" + string.Join("\n", violations));

    /// <summary>Asserts that one violation is at <paramref name="instancePath"/> and says <paramref name="says"/>.</summary>
    public static ContractViolation Single(IReadOnlyList<ContractViolation> violations, string instancePath, string says)
    {
        var hits = violations.Where(v => v.InstancePath == instancePath && v.Message.Contains(says, StringComparison.Ordinal)).ToArray();
        Assert.True(hits.Length == 1, $"expected one violation at {instancePath} saying '{says}', found:\n" + string.Join("\n", violations));
        return hits[0];
    }

    /// <summary>Asserts that some violation says <paramref name="says"/>.</summary>
    public static ContractViolation Says(IReadOnlyList<ContractViolation> violations, string says)
    {
        var hit = violations.FirstOrDefault(v => v.Message.Contains(says, StringComparison.Ordinal));
        Assert.True(hit != null, $"expected a violation saying '{says}', found:\n" + string.Join("\n", violations));
        return hit!;
    }
}
