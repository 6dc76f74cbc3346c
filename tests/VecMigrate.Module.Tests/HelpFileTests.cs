using System.Xml.Linq;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>
/// module/en-US/VecMigrate.dll-Help.xml against the compiled cmdlets, without PowerShell: every cmdlet, parameter
/// and parameter set documented as it is compiled, with words and real examples. (PwshModuleTests shows Get-Help
/// finding it in a real pwsh.)
/// </summary>
public class HelpFileTests
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly string HelpFile = Path.Combine(Repo.ModuleDir, "en-US", "VecMigrate.dll-Help.xml");
    private static readonly IReadOnlyList<CompiledCmdlet> Cmdlets = CmdletSurface.Read(Repo.CmdletAssembly);
    private static readonly Dictionary<string, XElement> Help = XDocument.Load(HelpFile).Root!.Elements(Command + "command")
        .ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value.Trim());

    public static TheoryData<string> CmdletNames() => new(CmdletSurface.Read(Repo.CmdletAssembly).Select(c => c.Name));

    private static string Text(XElement? element) => element is null ? "" : string.Join(" ", element.Descendants(Maml + "para").Select(p => p.Value.Trim()));

    // The parameters a help file documents: the cmdlet's own, and -WhatIf/-Confirm where it supports them.
    private static IEnumerable<string> Documented(CompiledCmdlet c, IEnumerable<string> names) =>
        c.SupportsShouldProcess ? names.Concat(["WhatIf", "Confirm"]) : names;

    [Fact]
    public void The_help_file_is_MAML_named_for_the_cmdlet_assembly_and_covers_exactly_the_compiled_cmdlets()
    {
        var root = XDocument.Load(HelpFile).Root!;
        Assert.Equal(("helpItems", "maml"), (root.Name.LocalName, root.Attribute("schema")?.Value));
        Assert.Equal(Cmdlets.Select(c => c.Name).Order(), Help.Keys.Order());
        Assert.Equal("VecMigrate.dll", Path.GetFileName(Repo.CmdletAssembly)); // PowerShell looks for <assembly file>-Help.xml
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Every_cmdlet_has_a_synopsis_a_description_and_examples_that_use_it(string name)
    {
        var help = Help[name];
        var details = help.Element(Command + "details")!;
        Assert.False(string.IsNullOrWhiteSpace(Text(details.Element(Maml + "description"))), $"{name}: no synopsis");
        Assert.True(Text(help.Element(Maml + "description")).Length > 100, $"{name}: no real description");
        Assert.Equal(name, $"{details.Element(Command + "verb")!.Value}-{details.Element(Command + "noun")!.Value}");
        var examples = help.Descendants(Command + "example").ToList();
        Assert.True(examples.Count >= 2, $"{name}: fewer than two examples");
        Assert.All(examples, e =>
        {
            Assert.Contains(name, e.Element(Dev + "code")!.Value);
            Assert.False(string.IsNullOrWhiteSpace(Text(e.Element(Dev + "remarks"))), $"{name}: an example without remarks");
        });
        var returns = help.Descendants(Command + "returnValue").Select(r => r.Element(Dev + "type")!.Element(Maml + "name")!.Value).ToList();
        var declared = Cmdlets.Single(c => c.Name == name).OutputTypes.Select(t => t == "System.Void" ? "None" : t);
        Assert.Equal(declared.Order(), returns.Order());
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Every_parameter_is_documented_with_its_type_requirement_position_pipeline_and_aliases(string name)
    {
        var cmdlet = Cmdlets.Single(c => c.Name == name);
        var documented = Help[name].Element(Command + "parameters")!.Elements(Command + "parameter")
            .ToDictionary(p => p.Element(Maml + "name")!.Value.Trim());
        Assert.Equal(Documented(cmdlet, cmdlet.Parameters.Select(p => p.Name)).Order(), documented.Keys.Order());
        foreach (var p in cmdlet.Parameters)
        {
            var doc = documented[p.Name];
            var where = $"{name} -{p.Name}";
            Assert.True(Text(doc.Element(Maml + "description")).Length > 20, $"{where}: no real description");
            Assert.Equal(p.TypeName, doc.Element(Dev + "type")!.Element(Maml + "name")!.Value);
            Assert.True(p.Sets.All(s => s.Mandatory).ToString().ToLowerInvariant() == doc.Attribute("required")!.Value, $"{where}: required");
            var positions = p.Sets.Select(s => s.Position).Distinct().ToList();
            var position = positions.Count == 1 && positions[0] >= 0 ? positions[0].ToString() : "named";
            Assert.True(position == doc.Attribute("position")!.Value, $"{where}: position");
            Assert.True(Pipeline(p.Sets) == doc.Attribute("pipelineInput")!.Value, $"{where}: pipelineInput");
            Assert.True((p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)) == doc.Attribute("aliases")!.Value, $"{where}: aliases");
            Assert.True(p.Attributes.Contains("SupportsWildcardsAttribute").ToString().ToLowerInvariant() == doc.Attribute("globbing")!.Value, $"{where}: globbing");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Syntax_has_one_line_per_parameter_set_with_its_parameters_and_their_requirement(string name)
    {
        var cmdlet = Cmdlets.Single(c => c.Name == name);
        var items = Help[name].Element(Command + "syntax")!.Elements(Command + "syntaxItem").ToList();
        var sets = cmdlet.Syntax();
        Assert.Equal(sets.Count, items.Count);
        // Each set matches one syntax line, and every line matches a set.
        foreach (var (set, parameters) in sets)
        {
            var expected = Documented(cmdlet, parameters.Select(p => p.Name)).Order().ToList();
            var line = items.SingleOrDefault(i => i.Elements(Command + "parameter").Select(p => p.Element(Maml + "name")!.Value).Order().SequenceEqual(expected));
            Assert.True(line is not null, $"{name}: no syntax line for set {set} ({string.Join(", ", expected)})");
            foreach (var p in parameters)
            {
                var doc = line!.Elements(Command + "parameter").Single(e => e.Element(Maml + "name")!.Value == p.Name);
                Assert.True(p.MandatoryIn(set).ToString().ToLowerInvariant() == doc.Attribute("required")!.Value, $"{name} -{p.Name} in {set}: required");
            }
        }
    }

    private static string Pipeline(IReadOnlyList<ParameterSetEntry> sets)
    {
        var byValue = sets.Any(s => s.FromPipeline);
        var byName = sets.Any(s => s.FromPipelineByPropertyName);
        return (byValue, byName) switch
        {
            (true, true) => "True (ByValue, ByPropertyName)",
            (true, false) => "True (ByValue)",
            (false, true) => "True (ByPropertyName)",
            _ => "False",
        };
    }
}
