using System.Runtime.InteropServices;
using System.Security;
using VecMigrate.Engine.Http;

namespace VecMigrate.Hosting;

/// <summary>
/// Turns what a user or runbook gives (a SecureString from -ApiKey or a credential, or an
/// environment variable such as PINECONE_API_KEY) into the engine's <see cref="ApiSecret"/>,
/// and registers its text with the <see cref="SecretRedactor"/> on the way.
/// </summary>
internal static class Secrets
{
    public const string PineconeApiKeyVariable = "PINECONE_API_KEY";
    public const string QdrantApiKeyVariable = "QDRANT_API_KEY";

    /// <summary>
    /// The given key if it is not empty, else the environment variable's value if that is set
    /// and not empty, else null (Qdrant without authentication needs no key; whether one is
    /// required is for the caller to say).
    /// </summary>
    public static ApiSecret? FromParameterOrEnvironment(
        SecureString? value, string environmentVariable, SecretRedactor redactor, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(environmentVariable);
        var secret = FromSecureString(value, redactor);
        if (secret is not null) return secret;
        var text = (environment ?? Environment.GetEnvironmentVariable)(environmentVariable);
        return FromText(string.IsNullOrWhiteSpace(text) ? null : text.Trim(), redactor);
    }

    /// <summary>The secret in a SecureString; null for null or empty.</summary>
    public static ApiSecret? FromSecureString(SecureString? value, SecretRedactor redactor)
    {
        if (value is null || value.Length == 0) return null;
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(value);
        try
        {
            return FromText(Marshal.PtrToStringUni(pointer, value.Length), redactor);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    /// <summary>Wraps and registers plain text; null for null or empty.</summary>
    public static ApiSecret? FromText(string? value, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(redactor);
        if (string.IsNullOrEmpty(value)) return null;
        redactor.Register(value);
        return new ApiSecret(value);
    }
}
