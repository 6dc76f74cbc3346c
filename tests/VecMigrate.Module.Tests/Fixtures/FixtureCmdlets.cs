using System.Management.Automation;

namespace VecMigrate.Module.Tests.Fixtures;

// Never run: compiled only so that the surface check has a right and a wrong cmdlet to read.

[Cmdlet(VerbsCommon.Get, "VmFixture")]
[OutputType(typeof(string))]
public sealed class GetVmFixtureCmdlet : PSCmdlet
{
}

[Cmdlet("Grab", "VmFixture")]
internal sealed class GrabVmFixtureCmdlet : PSCmdlet
{
}
