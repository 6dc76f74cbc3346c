using Microsoft.Extensions.Logging;
using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

public class PipelineLoggerFactoryTests
{
    private readonly List<(LogLevel Level, string Text)> _lines = [];

    private ILogger Logger(LogLevel minimum, SecretRedactor? redactor = null) =>
        new PipelineLoggerFactory(minimum, (level, text) => _lines.Add((level, text)), redactor ?? new SecretRedactor())
            .CreateLogger("VecMigrate.Engine.Qdrant.QdrantClient");

    [Fact]
    public void Levels_below_the_minimum_are_not_even_formatted()
    {
        var logger = Logger(LogLevel.Information);
        var formatted = 0;

        logger.Log(LogLevel.Debug, default, "state", null, (s, _) => { formatted++; return s; });

        Assert.False(logger.IsEnabled(LogLevel.Debug));
        Assert.Equal(0, formatted);
        Assert.Empty(_lines);
    }

    [Fact]
    public void A_message_arrives_with_its_level_and_short_category()
    {
        Logger(LogLevel.Trace).Log(LogLevel.Information, default, "Scrolled 256 points", null, (s, _) => s);
        Assert.Equal([(LogLevel.Information, "QdrantClient: Scrolled 256 points")], _lines);
    }

    [Fact]
    public void None_passes_nothing()
    {
        var logger = Logger(LogLevel.None);
        logger.Log(LogLevel.Critical, default, "x", null, (s, _) => s);
        Assert.Empty(_lines);
    }

    [Fact]
    public void The_exception_is_named_and_secrets_are_masked()
    {
        var redactor = new SecretRedactor();
        redactor.Register("pcsk_live_123456");
        Logger(LogLevel.Debug, redactor).Log(LogLevel.Warning, default, "retrying with key pcsk_live_123456",
            new TimeoutException("slow"), (s, _) => s);

        var (level, text) = Assert.Single(_lines);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Equal("QdrantClient: retrying with key *** (TimeoutException: slow)", text);
    }
}
