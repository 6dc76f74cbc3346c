using System.Net;

namespace VecMigrate.Engine.Http;

/// <summary>
/// Bounded retries with exponential backoff and full jitter, honouring Retry-After. Used for answers
/// that say "try again" (429, 500, 502, 503, 504), connection failures and timeouts; never for
/// 4xx answers that will not change on retry.
/// </summary>
public sealed class RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>
    /// Where a person waits for a first answer: three attempts within about two seconds (a refused connection to a
    /// wrong url or a stopped server then fails at once, instead of after the patient policy's minutes).
    /// </summary>
    public static RetryPolicy FirstContact { get; } = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(1) };

    /// <summary>No retries (for tests that want the first failure).</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxAttempts { get; init; } = 8;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest Retry-After honoured; a longer one is waited for only this long.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(120);

    public static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>The wait before attempt <paramref name="attempt"/>+1 (attempt counts from 1).</summary>
    public TimeSpan DelayFor(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } ra && ra > TimeSpan.Zero)
        {
            return ra < MaxRetryAfter ? ra : MaxRetryAfter;
        }
        var exp = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16));
        var cap = Math.Min(exp, MaxDelay.TotalMilliseconds);
        // Full jitter: spreads retries of many clients instead of having them knock together.
        return TimeSpan.FromMilliseconds(cap / 2 + Random.Shared.NextDouble() * cap / 2);
    }
}
