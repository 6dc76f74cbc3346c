using Xunit;

namespace VecMigrate.Testing.Contracts;

/// <summary>
/// A fact that needs the vendors' OpenAPI documents: skipped, with the reason shown, when
/// <c>shared/contracts/</c> is not beside the repository. Get the documents with <see cref="VendorContracts.Load"/>.
/// </summary>
public sealed class ContractFactAttribute : FactAttribute
{
    public ContractFactAttribute()
    {
        if (VendorContracts.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>The <see cref="ContractFactAttribute"/> of theories.</summary>
public sealed class ContractTheoryAttribute : TheoryAttribute
{
    public ContractTheoryAttribute()
    {
        if (VendorContracts.SkipReason is { } reason) Skip = reason;
    }
}
