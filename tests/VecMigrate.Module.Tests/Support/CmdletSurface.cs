using System.Reflection;
using System.Runtime.InteropServices;

namespace VecMigrate.Module.Tests.Support;

/// <summary>A cmdlet as compiled: its name and the attributes PowerShell reads.</summary>
internal sealed record CompiledCmdlet(string TypeName, string Verb, string Noun, bool HasOutputType, bool IsPublic)
{
    public string Name => $"{Verb}-{Noun}";
}

/// <summary>
/// Reads cmdlets out of an assembly as metadata (MetadataLoadContext), so that a net8.0 assembly
/// compiled against PowerShell's reference assembly can be inspected where no PowerShell runs.
/// </summary>
internal static class CmdletSurface
{
    private const string CmdletAttribute = "System.Management.Automation.CmdletAttribute";
    private const string OutputTypeAttribute = "System.Management.Automation.OutputTypeAttribute";

    private static readonly string[] VerbClasses =
    [
        "VerbsCommon", "VerbsCommunications", "VerbsData", "VerbsDiagnostic", "VerbsLifecycle", "VerbsOther", "VerbsSecurity",
    ];

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
                type.IsPublic && !type.IsAbstract));
        }
        return found;
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
