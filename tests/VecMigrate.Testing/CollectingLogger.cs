using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VecMigrate.Testing;

/// <summary>Keeps every formatted log line (with its exception text) for assertions.</summary>
public sealed class CollectingLogger : ILogger
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Text)> _lines = new();

    public IReadOnlyCollection<(EventId Id, LogLevel Level, string Text)> Lines => _lines;

    public string AllText => string.Join("\n", _lines.Select(l => l.Text));

    public int Count(int eventId) => _lines.Count(l => l.Id.Id == eventId);

    /// <summary>
    /// Waits until event <paramref name="eventId"/> has been logged <paramref name="times"/> times (counting only lines
    /// that contain <paramref name="containing"/>, e.g. <c>Fetched=2;</c> of the structured values, when given);
    /// fails after <paramref name="timeout"/> (10 s unless given). For moments a component announces, never a sleep.
    /// </summary>
    public async Task WaitForAsync(int eventId, int times = 1, string? containing = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        int Seen() => _lines.Count(l => l.Id.Id == eventId && (containing is null || l.Text.Contains(containing, StringComparison.Ordinal)));
        while (Seen() < times)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException(
                    $"Event {eventId}{(containing is null ? "" : $" with '{containing}'")} was logged {Seen()} times, not {times}, within the time allowed:\n{AllText}");
            }
            await Task.Delay(5);
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception);
        if (exception is not null) text += " | " + exception;
        // Structured values too: a secret could hide in an argument that the message template leaves out.
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            text += " | " + string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}"));
        }
        _lines.Enqueue((eventId, logLevel, text));
    }
}
