using System.Management.Automation;
using System.Net;
using System.Security;

namespace VecMigrate;

/// <summary>
/// Lets a SecureString parameter such as -ApiKey take what people actually have: a SecureString,
/// a credential (its password; Get-AutomationPSCredential in a runbook), or plain text (an Azure
/// Automation variable, a pipeline secret). Put it before the parameter's type.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecretTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value switch
        {
            null => null,
            SecureString secure => secure,
            PSCredential credential => credential.Password,
            string text => Hidden(text),
            _ => throw new ArgumentTransformationMetadataException(
                $"Expected a SecureString, a PSCredential or a string, not a {value.GetType().Name}."),
        };
    }

    private static SecureString Hidden(string text)
    {
        Hosting.SecretRedactor.Shared.Register(text);
        return new NetworkCredential(string.Empty, text).SecurePassword;
    }
}
