using Xunit;

namespace VecMigrate.Testing.Contracts;

/// <summary>
/// A fact that needs the vendors' OpenAPI documents (<c>shared/contracts/</c>, beside the repository on developers'
/// machines and in CI). It is never skipped: without the documents the test fails, saying where they were looked for
/// (<see cref="VendorContracts.SkipReason"/>), so that a missing folder cannot pass for a conforming client.
/// </summary>
public sealed class ContractFactAttribute : FactAttribute
{
}

/// <summary>The <see cref="ContractFactAttribute"/> of theories.</summary>
public sealed class ContractTheoryAttribute : TheoryAttribute
{
}
