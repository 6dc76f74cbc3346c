namespace VecMigrate.Module.Tests.Support;

/// <summary>Paths in the checkout these tests were built from.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Manifest => Path.Combine(Root, "VecMigrate.psd1");
    public static string ModuleDir => Path.Combine(Root, "module");
    public static string ModuleBin => Path.Combine(ModuleDir, "bin");
    public static string ModuleDeps => Path.Combine(ModuleBin, "deps");
    public static string FormatFile => Path.Combine(ModuleDir, "VecMigrate.Format.ps1xml");
    public static string CmdletAssembly => Path.Combine(ModuleDeps, "VecMigrate.dll");
    public static string LoaderAssembly => Path.Combine(ModuleBin, "VecMigrate.LoadContext.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VecMigrate.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No VecMigrate.sln above {AppContext.BaseDirectory}.");
    }
}
