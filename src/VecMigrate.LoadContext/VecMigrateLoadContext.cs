using System.Reflection;
using System.Runtime.Loader;

namespace VecMigrate.LoadContext;

/// <summary>
/// The load context that holds the cmdlets and every library they bring (the engine, Npgsql,
/// Microsoft.Extensions.*), so that another module's copy of one of those, loaded earlier or later
/// into the same PowerShell session, can neither replace ours nor be replaced by it.
/// </summary>
/// <remarks>
/// Only files in the <c>deps</c> folder beside this assembly load here. Everything else (the
/// framework, System.Management.Automation, PowerShell's own assemblies) is left to the default
/// context, so the cmdlets see the same PSCmdlet, ErrorRecord and string types as PowerShell does.
/// </remarks>
public sealed class VecMigrateLoadContext : AssemblyLoadContext
{
    /// <summary>The folder, beside this assembly, that holds the isolated assemblies.</summary>
    public const string DependencyFolderName = "deps";

    /// <summary>The assembly that holds the cmdlets.</summary>
    public const string CmdletAssemblyName = "VecMigrate";

    private static readonly object Gate = new();
    private static VecMigrateLoadContext? _instance;

    private readonly Assembly _cmdlets;

    private VecMigrateLoadContext(string dependencyDirectory)
        : base(CmdletAssemblyName, isCollectible: false)
    {
        DependencyDirectory = dependencyDirectory;
        var path = Path.Combine(dependencyDirectory, CmdletAssemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The VecMigrate cmdlets are not at '{path}'. Build the module first: dotnet build -c Release", path);
        }
        _cmdlets = LoadFromAssemblyPath(path);
    }

    /// <summary>The folder whose assemblies this context loads.</summary>
    public string DependencyDirectory { get; }

    /// <summary>
    /// Creates the context on first use (later calls, such as a second Import-Module, get the same
    /// one: a context that PowerShell has bound cmdlets from cannot be unloaded) and returns the
    /// cmdlet assembly loaded in it, for <c>Import-Module -Assembly</c>.
    /// </summary>
    public static Assembly LoadModule()
    {
        lock (Gate)
        {
            if (_instance is null)
            {
                var here = Path.GetDirectoryName(typeof(VecMigrateLoadContext).Assembly.Location)
                    ?? throw new InvalidOperationException("The VecMigrate loader has no location on disk.");
                _instance = new VecMigrateLoadContext(Path.Combine(here, DependencyFolderName));
            }
            return _instance._cmdlets;
        }
    }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var name = assemblyName.Name;
        if (string.IsNullOrEmpty(name) || IsPowerShellOwn(name)) return null;

        var path = Path.Combine(DependencyDirectory, name + ".dll");
        if (!File.Exists(path)) return null;
        // Framework assemblies that a package brings as well (System.Text.Json and the like, which Azure.Identity
        // asks for in versions newer than .NET 8's): the runtime's own when it is at least as new as the one asked
        // for (PowerShell on a newer .NET), so that the cmdlets and PowerShell share them; the module's copy only
        // where the runtime's is too old.
        if (FrameworkVersion(name) is { } framework && framework >= (assemblyName.Version ?? new Version(0, 0))) return null;
        return LoadFromAssemblyPath(path);
    }

    /// <summary>
    /// The version of the .NET runtime's own assembly of that name (Microsoft.NETCore.App, where System.Object comes from;
    /// not the host's application assemblies, whose copies are what the module keeps apart from); null if it has none.
    /// </summary>
    private static Version? FrameworkVersion(string name)
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location);
        if (string.IsNullOrEmpty(runtime)) return null;
        var file = Path.Combine(runtime, name + ".dll");
        if (!File.Exists(file)) return null;
        try
        {
            return AssemblyName.GetAssemblyName(file).Version;
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // A second copy of PowerShell's own assemblies would give the cmdlets a PSCmdlet type that
    // PowerShell does not recognise; even if one were shipped by mistake, never load it here.
    private static bool IsPowerShellOwn(string name) =>
        name.Equals("System.Management.Automation", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Microsoft.PowerShell.", StringComparison.OrdinalIgnoreCase);
}
