using System.Net;
using System.Security;
using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

public class SecretsTests
{
    private static SecureString Secure(string text) => new NetworkCredential("", text).SecurePassword;

    [Fact]
    public void A_SecureString_becomes_an_ApiSecret_whose_text_is_then_masked()
    {
        var redactor = new SecretRedactor();
        var secret = Secrets.FromSecureString(Secure("qdrant-key-0001"), redactor);

        Assert.Equal("qdrant-key-0001", secret!.Reveal());
        Assert.Equal("(secret)", secret.ToString());
        Assert.Equal("key ***", redactor.Redact("key qdrant-key-0001"));
    }

    [Fact]
    public void The_parameter_wins_over_the_environment_variable()
    {
        var secret = Secrets.FromParameterOrEnvironment(Secure("from-parameter"), Secrets.PineconeApiKeyVariable, new SecretRedactor(),
            _ => "from-environment");
        Assert.Equal("from-parameter", secret!.Reveal());
    }

    [Fact]
    public void Without_a_parameter_the_environment_variable_is_used()
    {
        string? asked = null;
        var secret = Secrets.FromParameterOrEnvironment(new SecureString(), Secrets.PineconeApiKeyVariable, new SecretRedactor(),
            name => { asked = name; return " from-environment "; });
        Assert.Equal("PINECONE_API_KEY", asked);
        Assert.Equal("from-environment", secret!.Reveal());
    }

    [Fact]
    public void Neither_given_means_no_key()
    {
        Assert.Null(Secrets.FromParameterOrEnvironment(null, Secrets.QdrantApiKeyVariable, new SecretRedactor(), _ => "  "));
    }
}
