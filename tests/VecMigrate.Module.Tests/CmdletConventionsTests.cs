using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>
/// The PowerShell surface rules of STYLE.md, checked on the compiled cmdlets as metadata (no pwsh needed):
/// one vocabulary, confirmation for what destroys, parameter sets named by constants.
/// </summary>
public class CmdletConventionsTests
{
    private static readonly IReadOnlyList<CompiledCmdlet> Cmdlets = CmdletSurface.Read(Repo.CmdletAssembly);

    // Names that mean the same as a vocabulary word: the word must be used instead.
    private static readonly Dictionary<string, string> Synonyms = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Uri"] = "Url", ["Endpoint"] = "Url", ["Server"] = "Url", ["Address"] = "Url", ["BaseUrl"] = "Url",
        ["Key"] = "ApiKey", ["Token"] = "ApiKey", ["ApiToken"] = "ApiKey", ["Password"] = "Credential", ["User"] = "Credential",
        ["UserName"] = "Credential", ["ConnString"] = "ConnectionString", ["Connection"] = "ConnectionString", ["Dsn"] = "ConnectionString",
        ["CollectionName"] = "Collection", ["TableName"] = "Table", ["SchemaName"] = "Schema",
        ["Host"] = "IndexHost", ["Namespaces"] = "Namespace", ["Batch"] = "BatchSize", ["Limit"] = "PageSize", ["Offset"] = "StartAfter",
        ["After"] = "StartAfter", ["Ids"] = "Id",
    };

    [Fact]
    public void Every_parameter_uses_the_vocabulary_word_not_a_synonym()
    {
        var problems = Cmdlets.SelectMany(c => c.Parameters.Where(p => Synonyms.ContainsKey(p.Name))
            .Select(p => $"{c.Name} -{p.Name}: call it -{Synonyms[p.Name]}")).ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void A_concept_has_one_name_and_one_type_in_every_cmdlet()
    {
        var problems = new List<string>();
        foreach (var c in Cmdlets)
        {
            foreach (var p in c.Parameters)
            {
                var expected = p.TypeName switch
                {
                    "System.Security.SecureString" => "ApiKey",
                    "System.Management.Automation.PSCredential" => "Credential",
                    "System.Uri" => "Url",
                    _ => null,
                };
                // A second url of the same service is named for what it is (-GrpcUrl), still ending in Url.
                var named = p.Name == expected || (expected == "Url" && p.Name.EndsWith("Url", StringComparison.Ordinal) && p.Name.Length > 3);
                if (expected is not null && !named) problems.Add($"{c.Name} -{p.Name} ({p.TypeName}) should be -{expected}");
                var type = p.Name switch
                {
                    "Url" => "System.Uri",
                    "ApiKey" => "System.Security.SecureString",
                    "Credential" => "System.Management.Automation.PSCredential",
                    "ConnectionString" or "Collection" or "IndexName" or "IndexHost" or "Schema" or "Table" or "StartAfter" => "System.String",
                    "BatchSize" or "PageSize" => "System.Int32",
                    // A read (a source) takes several namespaces; a write (a target) puts every record into one.
                    "Namespace" => c.Verb == "Write" || c.Name.EndsWith("Target", StringComparison.Ordinal) ? "System.String" : "System.String[]",
                    _ => null,
                };
                if (type is not null && p.TypeName != type) problems.Add($"{c.Name} -{p.Name} is {p.TypeName}, elsewhere {type}");
                if (p.Name == "ApiKey" && !p.Attributes.Contains("SecretTransformationAttribute"))
                {
                    problems.Add($"{c.Name} -ApiKey does not take text and credentials ([SecretTransformation])");
                }
            }
            var names = c.Parameters.Select(p => p.Name).ToHashSet();
            if (names.Contains("ConnectionString") && !(names.Contains("Credential") && names.Contains("Schema")))
            {
                problems.Add($"{c.Name} connects to Postgres without -Credential and -Schema");
            }
            if (names.Contains("ApiKey") && !names.Contains("Url")) problems.Add($"{c.Name} has -ApiKey but no -Url");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Names_of_collections_indexes_tables_and_checkpoints_complete_on_tab()
    {
        string[] completed = ["Collection", "IndexName", "Table", "Checkpoint"];
        var problems = Cmdlets.SelectMany(c => c.Parameters
            .Where(p => completed.Contains(p.Name) || (p.Name == "Name" && c.Verb == "Get"))
            .Where(p => !p.Attributes.Contains("ArgumentCompleterAttribute"))
            .Select(p => $"{c.Name} -{p.Name} has no completer")).ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Cmdlets_that_remove_or_replace_support_ShouldProcess_and_take_Force()
    {
        // New-PgVectorTarget -Mode Replace only describes a target: Copy-VectorData, which writes it, is the one that asks.
        var destructive = Cmdlets.Where(c => c.Verb is "Remove" or "Copy"
            || (c.Verb != "New" && c.Parameters.Any(p => p.Name == "Mode" && p.TypeName.EndsWith("PgWriteMode", StringComparison.Ordinal)))).ToList();
        Assert.Contains(destructive, c => c.Name == "Write-PgVector");
        Assert.Contains(destructive, c => c.Name == "Copy-VectorData");
        Assert.Contains(destructive, c => c.Name == "Remove-VecMigrateCheckpoint");
        // ShouldProcess decides by the cmdlet's ConfirmImpact, that of its usual operation (an append, a copy, one removal
        // asked for by name); the part that deletes data asks again through ShouldContinue, which only -Force passes
        // (PowerShell's pattern; the pwsh tests show a runbook that omits -Force fails instead of deleting).
        foreach (var c in destructive)
        {
            Assert.True(c.SupportsShouldProcess, $"{c.Name} does not support -WhatIf/-Confirm");
            Assert.True(c.ConfirmImpact == "Medium", $"{c.Name} has ConfirmImpact {c.ConfirmImpact}");
            Assert.Contains(c.Parameters, p => p.Name == "Force" && p.IsSwitch);
        }
        // Reading, and describing a source or target, never asks.
        Assert.All(Cmdlets.Where(c => c.Verb is "Get" or "ConvertTo" or "New"), c => Assert.False(c.SupportsShouldProcess, c.Name));
    }

    [Fact]
    public void Parameter_sets_are_named_by_constants_of_their_cmdlet()
    {
        var problems = new List<string>();
        foreach (var c in Cmdlets)
        {
            foreach (var set in c.ParameterSetNames.Append(c.DefaultParameterSetName).OfType<string>())
            {
                if (!c.StringConstants.Contains(set)) problems.Add($"{c.Name}: parameter set '{set}' is not a const of {c.TypeName}");
            }
            if (c.ParameterSetNames.Count > 1 && c.DefaultParameterSetName is null) problems.Add($"{c.Name}: several sets and no default");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Contains(Cmdlets, c => c.ParameterSetNames.Count > 1); // the check has something to check
    }

    [Fact]
    public void Records_flow_from_every_reader_into_the_writer_by_pipeline()
    {
        var writer = Cmdlets.Single(c => c.Name == "Write-PgVector");
        var input = writer.Parameters.Single(p => p.Sets.Any(s => s.FromPipeline));
        Assert.Equal(("InputObject", "VecMigrate.Engine.Records.VectorRecord"), (input.Name, input.TypeName));
        Assert.True(input.MandatoryIn(CompiledParameter.AllSets));
        var convert = Cmdlets.Single(c => c.Name == "ConvertTo-PgVectorRecord");
        Assert.Equal("InputObject", convert.Parameters.Single(p => p.Sets.Any(s => s.FromPipeline)).Name);
        // Get-QdrantCollection | Get-QdrantPoint, Get-PineconeIndex | Get-PineconeVector: by property name.
        var points = Cmdlets.Single(c => c.Name == "Get-QdrantPoint").Parameters.ToDictionary(p => p.Name);
        Assert.True(points["Collection"].Sets.All(s => s.FromPipelineByPropertyName) && points["Collection"].Aliases.Contains("Name"));
        Assert.True(points["Url"].Sets.All(s => s.FromPipelineByPropertyName));
        var vectors = Cmdlets.Single(c => c.Name == "Get-PineconeVector").Parameters.ToDictionary(p => p.Name);
        Assert.Contains("Name", vectors["IndexName"].Aliases);
        Assert.Contains("Host", vectors["IndexHost"].Aliases);
    }

    [Fact]
    public void The_surface_reader_sees_parameters_sets_and_confirm_impact()
    {
        // Proves the reader on a cmdlet whose attributes are known, so that the checks above can fail.
        var write = Cmdlets.Single(c => c.Name == "Write-PgVector");
        Assert.True(write.SupportsShouldProcess);
        var table = write.Parameters.Single(p => p.Name == "Table");
        Assert.Equal(0, table.Sets.Single().Position);
        Assert.True(table.MandatoryIn(CompiledParameter.AllSets));
        Assert.Contains(write.Parameters, p => p.Name == "ConnectionString"); // inherited from the Postgres base
        Assert.Equal("VecMigrate.Engine.Postgres.PgIdType", write.Parameters.Single(p => p.Name == "IdType").TypeName); // Nullable<> unwrapped
        var vectors = Cmdlets.Single(c => c.Name == "Get-PineconeVector");
        Assert.Equal(["ByName", "ByHost"], vectors.ParameterSetNames.Order().Reverse());
        Assert.Equal(2, vectors.Parameters.Single(p => p.Name == "IndexName").Sets.Count);
    }
}
