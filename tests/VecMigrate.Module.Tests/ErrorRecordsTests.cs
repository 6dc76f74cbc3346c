using System.Management.Automation;
using VecMigrate.Engine;

namespace VecMigrate.Module.Tests;

/// <summary>
/// The classification half of error records. ErrorRecord itself cannot be built here (the
/// PowerShell reference assembly has empty bodies); its enums are real, so the mapping is checked.
/// </summary>
public class ErrorRecordsTests
{
    [Fact]
    public void Every_failure_kind_has_a_category_of_its_own()
    {
        foreach (var kind in Enum.GetValues<FailureKind>())
        {
            Assert.NotEqual(ErrorCategory.NotSpecified, ErrorRecords.Category(kind));
        }
    }

    [Theory]
    [InlineData(FailureKind.NotFound, ErrorCategory.ObjectNotFound)]
    [InlineData(FailureKind.Unauthorized, ErrorCategory.AuthenticationError)]
    [InlineData(FailureKind.Unreachable, ErrorCategory.ConnectionError)]
    [InlineData(FailureKind.Timeout, ErrorCategory.OperationTimeout)]
    [InlineData(FailureKind.InvalidResponse, ErrorCategory.InvalidResult)]
    [InlineData(FailureKind.InvalidRecord, ErrorCategory.InvalidData)]
    [InlineData(FailureKind.InvalidArgument, ErrorCategory.InvalidArgument)]
    [InlineData(FailureKind.IncompatibleTarget, ErrorCategory.InvalidOperation)]
    [InlineData(FailureKind.LimitExceeded, ErrorCategory.LimitsExceeded)]
    [InlineData(FailureKind.MissingPrerequisite, ErrorCategory.NotInstalled)]
    [InlineData(FailureKind.WriteFailed, ErrorCategory.WriteError)]
    public void Failure_kinds_map_to_the_categories_scripts_filter_on(FailureKind kind, ErrorCategory expected)
    {
        Assert.Equal(expected, ErrorRecords.Category(kind));
    }

    [Fact]
    public void Foreign_failures_get_a_stable_id_and_a_real_category()
    {
        Assert.Equal(("ConnectionFailed", ErrorCategory.ConnectionError), Head(ErrorRecords.Classify(new HttpRequestException("refused"))));
        Assert.Equal(("OperationTimedOut", ErrorCategory.OperationTimeout), Head(ErrorRecords.Classify(new TimeoutException())));
        Assert.Equal((ErrorRecords.UnexpectedErrorId, ErrorCategory.NotSpecified), Head(ErrorRecords.Classify(new InvalidCastException())));
    }

    private static (string, ErrorCategory) Head((string Id, ErrorCategory Category, object? Target) c) => (c.Id, c.Category);
}
