using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using VecMigrate.Engine.Records;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests;

/// <summary>
/// module/VecMigrate.Format.ps1xml without PowerShell: well-formed, only elements the format
/// schema allows where they appear, and every type, property and $_.Member it names exists.
/// </summary>
public partial class FormatFileTests
{
    // Parent -> children the format schema allows (the table and list parts VecMigrate uses).
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Configuration"] = ["SelectionSets", "Controls", "ViewDefinitions", "DefaultSettings"],
        ["ViewDefinitions"] = ["View"],
        ["View"] = ["Name", "OutOfBand", "ViewSelectedBy", "GroupBy", "Controls", "TableControl", "ListControl", "WideControl", "CustomControl"],
        ["ViewSelectedBy"] = ["TypeName", "SelectionSetName"],
        ["TableControl"] = ["AutoSize", "HideTableHeaders", "TableHeaders", "TableRowEntries"],
        ["TableHeaders"] = ["TableColumnHeader"],
        ["TableColumnHeader"] = ["Label", "Width", "Alignment"],
        ["TableRowEntries"] = ["TableRowEntry"],
        ["TableRowEntry"] = ["Wrap", "EntrySelectedBy", "TableColumnItems"],
        ["TableColumnItems"] = ["TableColumnItem"],
        ["TableColumnItem"] = ["Alignment", "PropertyName", "ScriptBlock", "FormatString"],
        ["ListControl"] = ["ListEntries"],
        ["ListEntries"] = ["ListEntry"],
        ["ListEntry"] = ["EntrySelectedBy", "ListItems"],
        ["ListItems"] = ["ListItem"],
        ["ListItem"] = ["Label", "PropertyName", "ScriptBlock", "FormatString", "ItemSelectionCondition"],
        ["ItemSelectionCondition"] = ["PropertyName", "ScriptBlock"],
    };

    private static readonly XDocument Format = XDocument.Load(Repo.FormatFile);

    [Fact]
    public void Every_element_is_one_the_format_schema_allows_there()
    {
        Assert.Equal("Configuration", Format.Root!.Name.LocalName);
        Assert.DoesNotContain(Format.Root.Attributes(), a => !a.IsNamespaceDeclaration);
        foreach (var element in Format.Root.DescendantsAndSelf())
        {
            if (!Allowed.TryGetValue(element.Name.LocalName, out var children))
            {
                Assert.False(element.HasElements, $"<{element.Name.LocalName}> holds elements but should hold text.");
                continue;
            }
            foreach (var child in element.Elements())
            {
                Assert.True(children.Contains(child.Name.LocalName), $"<{child.Name.LocalName}> is not allowed in <{element.Name.LocalName}>.");
            }
        }
    }

    [Fact]
    public void Every_view_has_a_name_a_type_and_as_many_columns_as_headers()
    {
        var views = Format.Root!.Element("ViewDefinitions")!.Elements("View").ToList();
        Assert.NotEmpty(views);
        Assert.Equal(views.Count, views.Select(v => v.Element("Name")!.Value).Distinct().Count());
        foreach (var view in views.Where(v => v.Element("TableControl") is not null))
        {
            var table = view.Element("TableControl")!;
            var headers = table.Element("TableHeaders")!.Elements("TableColumnHeader").Count();
            foreach (var row in table.Element("TableRowEntries")!.Elements("TableRowEntry"))
            {
                var items = row.Element("TableColumnItems")!.Elements("TableColumnItem").ToList();
                Assert.Equal(headers, items.Count);
                Assert.All(items, i => Assert.Single(i.Elements(), e => e.Name.LocalName is "PropertyName" or "ScriptBlock"));
            }
        }
    }

    [Fact]
    public void Every_type_property_and_script_member_named_exists_in_the_engine()
    {
        var engine = typeof(VectorRecord).Assembly;
        foreach (var view in Format.Root!.Element("ViewDefinitions")!.Elements("View"))
        {
            foreach (var typeName in view.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => t.Value.Trim()))
            {
                var type = engine.GetType(typeName);
                Assert.True(type is { IsPublic: true }, $"{typeName} is not a public engine type.");
                var members = type!.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)
                    .Concat(type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Select(m => m.Name))
                    .ToHashSet(StringComparer.OrdinalIgnoreCase);

                foreach (var property in view.Descendants("PropertyName").Select(p => p.Value.Trim()))
                {
                    Assert.True(members.Contains(property), $"{typeName} has no property {property}.");
                }
                foreach (var script in view.Descendants("ScriptBlock").Select(s => s.Value))
                {
                    foreach (Match used in CurrentObjectMember().Matches(script))
                    {
                        Assert.True(members.Contains(used.Groups[1].Value), $"{typeName} has no member {used.Groups[1].Value} (used as $_.{used.Groups[1].Value}).");
                    }
                }
            }
        }
    }

    [GeneratedRegex(@"\$_\.(\w+)")]
    private static partial Regex CurrentObjectMember();
}
