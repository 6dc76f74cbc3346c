using VecMigrate.Engine;
using VecMigrate.Engine.Records;
using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

public class SecretRedactorTests
{
    [Fact]
    public void A_registered_secret_is_masked_wherever_it_appears()
    {
        var redactor = new SecretRedactor();
        redactor.Register("pcsk_4hY7_supersecret");
        Assert.Equal("sent *** to the server (***)", redactor.Redact("sent pcsk_4hY7_supersecret to the server (pcsk_4hY7_supersecret)"));
    }

    [Theory]
    [InlineData("Host=db;Password=hunter22;Username=bob", "Host=db;Password=***;Username=bob")]
    [InlineData("host=db; pwd = 'p a s s'; user=bob", "host=db; pwd = ***; user=bob")]
    [InlineData("request had api-key: abc123def", "request had api-key: ***")]
    [InlineData("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***")]
    [InlineData("connect to postgres://bob:s3cr3t@db:5432/vec failed", "connect to postgres://bob:***@db:5432/vec failed")]
    [InlineData("collection 'docs' not found at http://localhost:6333", "collection 'docs' not found at http://localhost:6333")]
    [InlineData("No Pinecone API key: give -ApiKey (text, SecureString or credential), or set PINECONE_API_KEY.", "No Pinecone API key: give -ApiKey (text, SecureString or credential), or set PINECONE_API_KEY.")]
    [InlineData("api-key: pcsk_9a8b7c", "api-key: ***")]
    public void Credential_shaped_text_is_masked_and_other_text_left_alone(string text, string expected)
    {
        Assert.Equal(expected, new SecretRedactor().Redact(text));
    }

    /// <summary>
    /// Every error message the code can raise (each <c>new VecMigrateException(kind, "Id", message ...)</c> in src/,
    /// its interpolated parts filled with plain words) comes through the redactor unchanged: it masks secrets, not
    /// prose such as "No Pinecone API key: give -ApiKey".
    /// </summary>
    [Fact]
    public void Every_error_ids_message_passes_the_redactor_unchanged()
    {
        var src = Path.Combine(Support.Repo.Root, "src");
        var raise = new System.Text.RegularExpressions.Regex(
            @"new VecMigrateException\(\s*FailureKind\.\w+,\s*(?:""(?<id>\w+)""|[^,]+),\s*\$?""(?<message>(?:[^""\\]|\\.)*)""");
        var checkedIds = new List<string>();
        var problems = new List<string>();
        var redactor = new SecretRedactor();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
        {
            foreach (System.Text.RegularExpressions.Match m in raise.Matches(File.ReadAllText(file)))
            {
                // Holes become a plain word, as most of them are names and counts.
                var text = System.Text.RegularExpressions.Regex.Replace(m.Groups["message"].Value, @"\{[^{}]*\}", "value");
                checkedIds.Add(m.Groups["id"].Value);
                if (redactor.Redact(text) != text) problems.Add($"{m.Groups["id"].Value} ({Path.GetFileName(file)}): {text} -> {redactor.Redact(text)}");
            }
        }
        Assert.True(checkedIds.Count > 50, $"only {checkedIds.Count} messages found: the pattern no longer matches the code");
        Assert.Contains("PineconeApiKeyMissing", checkedIds);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void An_exception_without_secrets_is_kept_as_it_is()
    {
        var e = new VecMigrateException(FailureKind.NotFound, "QdrantCollectionNotFound", "Collection 'docs' does not exist.", "docs",
            new HttpRequestException("404"));
        Assert.Same(e, new SecretRedactor().Redact(e));
    }

    [Fact]
    public void An_exception_chain_with_a_secret_is_copied_masked_keeping_kind_id_and_target()
    {
        var redactor = new SecretRedactor();
        redactor.Register("topsecretkey");
        var e = new VecMigrateException(FailureKind.Unauthorized, "PineconeUnauthorized", "Key topsecretkey refused.", "https://idx",
            new InvalidOperationException("header api-key=topsecretkey"));

        var safe = Assert.IsType<VecMigrateException>(redactor.Redact(e));

        Assert.Equal((FailureKind.Unauthorized, "PineconeUnauthorized", "https://idx"), (safe.Kind, safe.ErrorId, safe.Target));
        Assert.Equal("Key *** refused.", safe.Message);
        var inner = Assert.IsType<RedactedException>(safe.InnerException);
        Assert.Equal(typeof(InvalidOperationException).FullName, inner.OriginalType);
        Assert.DoesNotContain("topsecretkey", inner.Message);
    }

    [Fact]
    public void A_rejected_record_keeps_its_record_when_masked()
    {
        var redactor = new SecretRedactor();
        var record = new VectorRecord(PointId.FromUnsigned(7), null, null);
        var e = new RecordRejectedException("PgVectorRecordInvalid", "bad record near password=abcd1234", record);

        var safe = Assert.IsType<RecordRejectedException>(redactor.Redact(e));

        Assert.Same(record, safe.Record);
        Assert.DoesNotContain("abcd1234", safe.Message);
    }
}
