using System.Reflection;
using System.Runtime.Loader;
using VecMigrate.Module.Tests.Support;

namespace VecMigrate.Module.Tests.Layout;

/// <summary>
/// The loader from module/bin, run in this process as VecMigrate.psm1 runs it in PowerShell. This
/// test process has its own Npgsql and engine in the default context, as another module would.
/// </summary>
public class LoadContextTests
{
    private static readonly Lazy<Assembly> Cmdlets = new(() =>
    {
        var loader = AssemblyLoadContext.Default.LoadFromAssemblyPath(Repo.LoaderAssembly);
        var type = loader.GetType("VecMigrate.LoadContext.VecMigrateLoadContext", throwOnError: true)!;
        return (Assembly)type.GetMethod("LoadModule")!.Invoke(null, null)!;
    });

    private static AssemblyLoadContext ModuleContext => AssemblyLoadContext.GetLoadContext(Cmdlets.Value)!;

    [Fact]
    public void Cmdlets_load_from_deps_into_a_context_of_their_own()
    {
        Assert.Equal("VecMigrate", ModuleContext.Name);
        Assert.NotSame(AssemblyLoadContext.Default, ModuleContext);
        Assert.Equal(Path.GetFullPath(Repo.CmdletAssembly), Path.GetFullPath(Cmdlets.Value.Location));
    }

    [Fact]
    public void Npgsql_gRPC_and_the_engine_in_the_module_are_not_the_sessions_copies()
    {
        foreach (var name in new[] { "Npgsql", "VecMigrate.Engine", "Microsoft.Extensions.Logging.Abstractions",
                     "Qdrant.Client", "Google.Protobuf", "Grpc.Net.Client", "Grpc.Net.Common", "Grpc.Core.Api", "Pgvector" })
        {
            var ours = ModuleContext.LoadFromAssemblyName(new AssemblyName(name));
            var theirs = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(name));
            Assert.Same(ModuleContext, AssemblyLoadContext.GetLoadContext(ours));
            Assert.NotSame(theirs, ours);
            Assert.StartsWith(Path.GetFullPath(Repo.ModuleDeps), Path.GetFullPath(ours.Location));
        }
    }

    [Fact]
    public void PowerShell_and_the_framework_come_from_the_default_context()
    {
        foreach (var name in new[] { "System.Management.Automation", "System.Text.Json", "System.Runtime" })
        {
            var loaded = ModuleContext.LoadFromAssemblyName(new AssemblyName(name));
            Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(loaded));
        }
    }

    [Fact]
    public void A_second_import_gets_the_same_context_and_assembly()
    {
        var loader = AssemblyLoadContext.Default.LoadFromAssemblyPath(Repo.LoaderAssembly);
        var again = (Assembly)loader.GetType("VecMigrate.LoadContext.VecMigrateLoadContext")!.GetMethod("LoadModule")!.Invoke(null, null)!;
        Assert.Same(Cmdlets.Value, again);
        Assert.Single(AssemblyLoadContext.All, c => c.Name == "VecMigrate");
    }
}
