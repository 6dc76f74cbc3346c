using Microsoft.Extensions.Logging;

namespace VecMigrate.Hosting;

/// <summary>
/// Turns the engine's log messages into lines for the pipeline thread: the cmdlet base writes
/// Information and above as Verbose, Debug and Trace as Debug. Logging never waits: the sink is
/// expected to queue (see <see cref="PipelinePump.TryPostMessage"/>), and messages below
/// <see cref="MinimumLevel"/> (what the caller's preferences would hide anyway) are not even
/// formatted. Every line passes through the <see cref="SecretRedactor"/>.
/// </summary>
internal sealed class PipelineLoggerFactory : ILoggerFactory, ILoggerProvider
{
    private readonly Action<LogLevel, string> _sink;
    private readonly SecretRedactor _redactor;

    /// <param name="minimumLevel">The lowest level passed on; <see cref="LogLevel.None"/> passes nothing.</param>
    /// <param name="sink">Receives each formatted, redacted line; called on the logging thread.</param>
    /// <param name="redactor">Masks secrets in every line.</param>
    public PipelineLoggerFactory(LogLevel minimumLevel, Action<LogLevel, string> sink, SecretRedactor redactor)
    {
        MinimumLevel = minimumLevel;
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _redactor = redactor ?? throw new ArgumentNullException(nameof(redactor));
    }

    public LogLevel MinimumLevel { get; }

    public ILogger CreateLogger(string categoryName) => new Logger(this, ShortCategory(categoryName));

    /// <summary>Not supported: this factory has exactly one destination, the pipeline.</summary>
    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("The pipeline logger factory takes no other providers.");

    public void Dispose()
    {
    }

    // "VecMigrate.Engine.Qdrant.QdrantClient" -> "QdrantClient": enough to tell sources apart.
    private static string ShortCategory(string category)
    {
        var dot = category.LastIndexOf('.');
        return dot >= 0 && dot < category.Length - 1 ? category[(dot + 1)..] : category;
    }

    private sealed class Logger(PipelineLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = formatter(state, exception);
            if (exception is not null)
            {
                // Formatters usually leave the exception out; its type and message are what a reader needs.
                text = $"{text} ({exception.GetType().Name}: {exception.Message})";
            }
            owner._sink(logLevel, owner._redactor.Redact($"{category}: {text}"));
        }
    }
}
