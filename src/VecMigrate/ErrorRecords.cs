using System.Management.Automation;
using System.Net.Http;
using System.Net.Sockets;
using System.Reflection;
using VecMigrate.Engine;
using VecMigrate.Hosting;

namespace VecMigrate;

/// <summary>
/// Builds the ErrorRecord for an exception: the engine's stable id and failure kind become the
/// record's id and category, its target (record, collection, table, url) the target object, and
/// the exception is kept whole (inner chain included) unless a message had to be masked.
/// </summary>
internal static class ErrorRecords
{
    /// <summary>The id of an error that is neither the engine's nor one of the known framework failures.</summary>
    public const string UnexpectedErrorId = "VecMigrateUnexpectedError";

    public static ErrorRecord From(Exception exception, SecretRedactor redactor) => From(exception, redactor, null);

    /// <summary>The same, with <paramref name="target"/> as the target object when given (the input object a record was made of).</summary>
    public static ErrorRecord From(Exception exception, SecretRedactor redactor, object? target)
    {
        ArgumentNullException.ThrowIfNull(exception);
        exception = Unwrap(exception);
        var (errorId, category, known) = exception switch
        {
            RecordRejectedException rejected => (rejected.ErrorId, Category(rejected.Kind), (object?)rejected.Record),
            VecMigrateException vm => (vm.ErrorId, Category(vm.Kind), redactor.Redact(vm.Target)),
            _ => Classify(exception),
        };
        return new ErrorRecord(redactor.Redact(exception), errorId, category, target ?? known);
    }

    /// <summary>The PowerShell category for each engine failure kind (PowerShell 5.1's enum: all exist in 7.4).</summary>
    public static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.Unauthorized => ErrorCategory.AuthenticationError,
        FailureKind.Unreachable => ErrorCategory.ConnectionError,
        FailureKind.Timeout => ErrorCategory.OperationTimeout,
        FailureKind.InvalidResponse => ErrorCategory.InvalidResult,
        FailureKind.InvalidRecord => ErrorCategory.InvalidData,
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.IncompatibleTarget => ErrorCategory.InvalidOperation,
        FailureKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        FailureKind.MissingPrerequisite => ErrorCategory.NotInstalled,
        FailureKind.WriteFailed => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>Id and category for failures that did not come through the engine's classification.</summary>
    public static (string ErrorId, ErrorCategory Category, object? Target) Classify(Exception exception) => exception switch
    {
        TimeoutException or TaskCanceledException => ("OperationTimedOut", ErrorCategory.OperationTimeout, null),
        HttpRequestException or SocketException => ("ConnectionFailed", ErrorCategory.ConnectionError, null),
        ArgumentException argument => ("InvalidArgument", ErrorCategory.InvalidArgument, argument.ParamName),
        UnauthorizedAccessException => ("AccessDenied", ErrorCategory.PermissionDenied, null),
        FormatException or System.Text.Json.JsonException => ("InvalidData", ErrorCategory.InvalidData, null),
        IOException => ("IOFailed", ErrorCategory.ReadError, null),
        NotSupportedException or NotImplementedException => ("NotSupported", ErrorCategory.NotImplemented, null),
        _ => (UnexpectedErrorId, ErrorCategory.NotSpecified, null),
    };

    // Task plumbing wraps the real failure; the record should show the failure.
    private static Exception Unwrap(Exception exception)
    {
        while (true)
        {
            switch (exception)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    exception = aggregate.InnerExceptions[0];
                    continue;
                case TargetInvocationException { InnerException: { } inner }:
                    exception = inner;
                    continue;
                default:
                    return exception;
            }
        }
    }
}
