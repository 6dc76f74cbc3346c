namespace VecMigrate.Engine.Http;

/// <summary>
/// An API key or password. Its text is reachable only through <see cref="Reveal"/>, which is called
/// where a header is set; ToString and any formatting show a placeholder.
/// </summary>
public sealed class ApiSecret
{
    private readonly string _value;

    public ApiSecret(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        _value = value;
    }

    /// <summary>The secret's text: for request headers and connection strings only.</summary>
    public string Reveal() => _value;

    public override string ToString() => "(secret)";
}
