using System.Reflection;
using System.Runtime.InteropServices;

namespace VecMigrate.Module.Tests.Support;

/// <summary>A cmdlet as compiled: its name and the attributes PowerShell reads.</summary>
internal sealed record CompiledCmdlet(string TypeName, string Verb, string Noun, bool HasOutputType, bool IsPublic)
{
    public string Name => $"{Verb}-{Noun}";

    public bool SupportsShouldProcess { get; init; }

    /// <summary>The [Cmdlet] ConfirmImpact by name (Medium when not given, as PowerShell takes it).</summary>
    public string ConfirmImpact { get; init; } = "Medium";

    public string? DefaultParameterSetName { get; init; }

    public IReadOnlyList<CompiledParameter> Parameters { get; init; } = [];

    /// <summary>The full names of the types [OutputType] declares.</summary>
    public IReadOnlyList<string> OutputTypes { get; init; } = [];

    /// <summary>Values of the type's public const string fields (parameter-set names must be among them).</summary>
    public IReadOnlySet<string> StringConstants { get; init; } = new HashSet<string>();

    /// <summary>The parameter sets by name; "__AllParameterSets" holds parameters that belong to every set.</summary>
    public IReadOnlyList<string> ParameterSetNames =>
        Parameters.SelectMany(p => p.Sets).Select(s => s.Name).Where(n => n != CompiledParameter.AllSets).Distinct().ToList();

    /// <summary>The parameters each syntax line shows: one line per named set (with the all-sets ones), or one line.</summary>
    public IReadOnlyList<(string Set, IReadOnlyList<CompiledParameter> Parameters)> Syntax()
    {
        var names = ParameterSetNames;
        if (names.Count == 0) return [(CompiledParameter.AllSets, Parameters)];
        return names.Select(n => (n, (IReadOnlyList<CompiledParameter>)Parameters.Where(p => p.Sets.Any(s => s.Name == n || s.Name == CompiledParameter.AllSets)).ToList())).ToList();
    }
}

/// <summary>One [Parameter] property: its type, aliases, the sets it is in, and its other attributes by name.</summary>
internal sealed record CompiledParameter(string Name, string TypeName, IReadOnlyList<string> Aliases, IReadOnlyList<ParameterSetEntry> Sets, IReadOnlyList<string> Attributes)
{
    public const string AllSets = "__AllParameterSets";

    public bool MandatoryIn(string set) => Sets.Any(s => (s.Name == set || s.Name == AllSets) && s.Mandatory);

    public bool IsSwitch => TypeName == "System.Management.Automation.SwitchParameter";
}

/// <summary>What one [Parameter] attribute says.</summary>
internal sealed record ParameterSetEntry(string Name, bool Mandatory, int Position, bool FromPipeline, bool FromPipelineByPropertyName);

/// <summary>
/// Reads cmdlets out of an assembly as metadata (MetadataLoadContext), so that a net8.0 assembly
/// compiled against PowerShell's reference assembly can be inspected where no PowerShell runs.
/// </summary>
internal static class CmdletSurface
{
    private const string CmdletAttribute = "System.Management.Automation.CmdletAttribute";
    private const string OutputTypeAttribute = "System.Management.Automation.OutputTypeAttribute";
    private const string ParameterAttribute = "System.Management.Automation.ParameterAttribute";
    private const string AliasAttribute = "System.Management.Automation.AliasAttribute";

    private static readonly string[] VerbClasses =
    [
        "VerbsCommon", "VerbsCommunications", "VerbsData", "VerbsDiagnostic", "VerbsLifecycle", "VerbsOther", "VerbsSecurity",
    ];

    private static readonly string[] ConfirmImpactNames = ["None", "Low", "Medium", "High"];

    /// <summary>Every type in the assembly that carries [Cmdlet], optionally only in one namespace.</summary>
    public static IReadOnlyList<CompiledCmdlet> Read(string assemblyPath, string? inNamespace = null)
    {
        using var context = Open(Path.GetDirectoryName(assemblyPath)!);
        var assembly = context.LoadFromAssemblyPath(assemblyPath);
        var found = new List<CompiledCmdlet>();
        foreach (var type in assembly.GetTypes())
        {
            if (inNamespace is not null && type.Namespace != inNamespace) continue;
            var cmdlet = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == CmdletAttribute);
            if (cmdlet is null) continue;
            var hasOutputType = type.GetCustomAttributesData().Any(a => a.AttributeType.FullName == OutputTypeAttribute);
            found.Add(new CompiledCmdlet(
                type.FullName!,
                (string)cmdlet.ConstructorArguments[0].Value!,
                (string)cmdlet.ConstructorArguments[1].Value!,
                hasOutputType,
                type.IsPublic && !type.IsAbstract)
            {
                SupportsShouldProcess = Named(cmdlet, "SupportsShouldProcess") is true,
                ConfirmImpact = Named(cmdlet, "ConfirmImpact") is int impact ? ConfirmImpactNames[impact] : "Medium",
                DefaultParameterSetName = Named(cmdlet, "DefaultParameterSetName") as string,
                Parameters = ReadParameters(type),
                OutputTypes = type.GetCustomAttributesData().Where(a => a.AttributeType.FullName == OutputTypeAttribute)
                    .SelectMany(a => (IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!)
                    .Select(v => v.Value is Type t ? t.FullName! : (string)v.Value!).ToList(),
                // With the base class's: a cmdlet may inherit its parameters, and the sets they name, from a base.
                StringConstants = type.GetFields(BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy)
                    .Where(f => f.IsLiteral && f.FieldType.FullName == "System.String")
                    .Select(f => (string)f.GetRawConstantValue()!).ToHashSet(),
            });
        }
        return found;
    }

    private static List<CompiledParameter> ReadParameters(Type type)
    {
        var parameters = new List<CompiledParameter>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attributes = property.GetCustomAttributesData();
            var sets = attributes.Where(a => a.AttributeType.FullName == ParameterAttribute).Select(a => new ParameterSetEntry(
                Named(a, "ParameterSetName") as string ?? CompiledParameter.AllSets,
                Named(a, "Mandatory") is true,
                Named(a, "Position") is int position ? position : int.MinValue,
                Named(a, "ValueFromPipeline") is true,
                Named(a, "ValueFromPipelineByPropertyName") is true)).ToList();
            if (sets.Count == 0) continue;
            var aliases = attributes.Where(a => a.AttributeType.FullName == AliasAttribute)
                .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (string)v.Value!)).ToList();
            // The compiler's own markers (nullable annotations) say nothing of the parameter a user sees.
            var others = attributes.Where(a => a.AttributeType.Namespace != "System.Runtime.CompilerServices")
                .Select(a => a.AttributeType.Name).Where(n => n is not "ParameterAttribute" and not "AliasAttribute").ToList();
            var propertyType = property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition().FullName == "System.Nullable`1")
            {
                propertyType = propertyType.GetGenericArguments()[0];
            }
            parameters.Add(new CompiledParameter(property.Name, propertyType.FullName!, aliases, sets, others));
        }
        return parameters;
    }

    private static object? Named(CustomAttributeData attribute, string name)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.MemberName == name) return argument.TypedValue.Value;
        }
        return null;
    }

    /// <summary>PowerShell's approved verbs, as its reference assembly defines them.</summary>
    public static IReadOnlySet<string> ApprovedVerbs()
    {
        using var context = Open(AppContext.BaseDirectory);
        var sma = context.LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll"));
        var verbs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in VerbClasses)
        {
            var type = sma.GetType("System.Management.Automation." + name, throwOnError: true)!;
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                if (field.IsLiteral && field.GetRawConstantValue() is string verb) verbs.Add(verb);
            }
        }
        return verbs;
    }

    /// <summary>What is wrong with a cmdlet by the module's rules (empty when nothing).</summary>
    public static IReadOnlyList<string> Problems(CompiledCmdlet cmdlet, IReadOnlySet<string> approvedVerbs)
    {
        var problems = new List<string>();
        if (!cmdlet.IsPublic) problems.Add($"{cmdlet.Name}: the type {cmdlet.TypeName} is not public and concrete");
        if (!cmdlet.HasOutputType) problems.Add($"{cmdlet.Name}: no [OutputType]");
        if (!approvedVerbs.Contains(cmdlet.Verb)) problems.Add($"{cmdlet.Name}: '{cmdlet.Verb}' is not an approved verb");
        return problems;
    }

    // The framework, PowerShell's reference assembly (beside the tests), and the assembly's own folder.
    private static MetadataLoadContext Open(string directory)
    {
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(string dir)
        {
            foreach (var dll in Directory.EnumerateFiles(dir, "*.dll")) paths.TryAdd(Path.GetFileName(dll), dll);
        }
        Add(directory);
        Add(RuntimeEnvironment.GetRuntimeDirectory());
        paths.TryAdd("System.Management.Automation.dll", Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll"));
        return new MetadataLoadContext(new PathAssemblyResolver(paths.Values));
    }
}
