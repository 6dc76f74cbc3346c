using System.Collections;
using System.Management.Automation;
using VecMigrate.Engine;

namespace VecMigrate;

/// <summary>
/// The one place that knows PowerShell's own value types: turns hashtables, PSCustomObjects (Import-Csv rows,
/// ConvertFrom-Json output) and PSObject wrappers into plain .NET values (strings, numbers, dictionaries in their
/// key order, lists) for the engine, which knows nothing of PowerShell.
/// </summary>
internal static class PowerShellValues
{
    private const int MaxDepth = 64;

    /// <summary>An input object's fields in order: a dictionary's entries, else the object's properties.</summary>
    public static List<KeyValuePair<string, object?>> Fields(object input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return ToPlain(input, 0) switch
        {
            List<KeyValuePair<string, object?>> fields => fields,
            var other => Properties(PSObject.AsPSObject(other), 0),
        };
    }

    /// <summary>
    /// A dictionary parameter (@{ field = 'type' }) as text pairs, in the dictionary's own order: [ordered]@{} fixes
    /// the order of the columns it makes, @{} leaves it to the hashtable.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> StringPairs(IDictionary? map) =>
        map is null ? [] : map.Cast<DictionaryEntry>().Select(e => new KeyValuePair<string, string>(
            LanguagePrimitives.ConvertTo<string>(e.Key), LanguagePrimitives.ConvertTo<string>(e.Value)));

    /// <summary>A value with every PowerShell wrapper removed, recursively.</summary>
    public static object? ToPlain(object? value) => ToPlain(value, 0);

    private static object? ToPlain(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new VecMigrateException(FailureKind.InvalidRecord, "ObjectTooDeep", $"An object nests more than {MaxDepth} levels deep (a cycle?).");
        }
        if (value is PSObject wrapped)
        {
            // A PSCustomObject's fields are its note properties; anything else is its base object.
            return wrapped.BaseObject is PSCustomObject ? Properties(wrapped, depth) : ToPlain(wrapped.BaseObject, depth);
        }
        switch (value)
        {
            case null:
            case string:
            case float[]:
            case double[]:
            case ValueType:
                return value;
            case IDictionary dictionary:
            {
                var fields = new List<KeyValuePair<string, object?>>(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    fields.Add(new(Convert.ToString(ToPlain(entry.Key, depth + 1), System.Globalization.CultureInfo.InvariantCulture) ?? "",
                        ToPlain(entry.Value, depth + 1)));
                }
                return fields;
            }
            case IEnumerable list:
            {
                var items = new List<object?>();
                foreach (var item in list) items.Add(ToPlain(item, depth + 1));
                return items;
            }
            default:
                return value;
        }
    }

    private static List<KeyValuePair<string, object?>> Properties(PSObject obj, int depth)
    {
        var fields = new List<KeyValuePair<string, object?>>();
        foreach (var property in obj.Properties)
        {
            if (!property.IsGettable) continue;
            fields.Add(new(property.Name, ToPlain(property.Value, depth + 1)));
        }
        return fields;
    }
}
