using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace VecMigrate.Testing.Contracts;

/// <summary>Which exchanges <see cref="ContractCheckMiddleware"/> checks.</summary>
public sealed record ContractSampling
{
    /// <summary>Every exchange (the default; what tests should use).</summary>
    public static ContractSampling All { get; } = new();

    /// <summary>Check the first <paramref name="first"/> exchanges, then one in <paramref name="every"/>:
    /// for benchmarks, so that validating multi-MB bodies does not become what is measured.</summary>
    public static ContractSampling Every(int every, int first = 10) => new() { CheckEvery = every, AlwaysCheckFirst = first };

    /// <summary>After the first ones, check exchange number n when n is a multiple of this. 1 = all.</summary>
    public int CheckEvery { get; init; } = 1;

    /// <summary>How many exchanges at the start are always checked.</summary>
    public int AlwaysCheckFirst { get; init; } = 10;
}

/// <summary>
/// ASP.NET Core middleware for stand-in servers: buffers each request and response body, checks the
/// exchange with a <see cref="ContractCheck"/> and records every violation, while the client receives
/// exactly the bytes, status and headers the stand-in produced. Add it first:
/// <c>app.Use(middleware.InvokeAsync)</c>, or pass the check to <c>StandInHost.StartAsync</c>.
/// </summary>
public sealed class ContractCheckMiddleware
{
    private readonly object _gate = new();
    private readonly List<ContractViolation> _violations = [];
    private long _seen;
    private long _checked;

    public ContractCheckMiddleware(ContractCheck check, ContractSampling? sampling = null)
    {
        Check = check ?? throw new ArgumentNullException(nameof(check));
        Sampling = sampling ?? ContractSampling.All;
        if (Sampling.CheckEvery < 1) throw new ArgumentOutOfRangeException(nameof(sampling), "CheckEvery must be at least 1.");
    }

    public ContractCheck Check { get; }

    public ContractSampling Sampling { get; }

    /// <summary>Every violation so far, in the order found (a snapshot).</summary>
    public IReadOnlyList<ContractViolation> Violations
    {
        get
        {
            lock (_gate) return _violations.ToArray();
        }
    }

    /// <summary>Exchanges that passed through.</summary>
    public long ExchangesSeen => Interlocked.Read(ref _seen);

    /// <summary>Exchanges that were checked (all of them unless sampling).</summary>
    public long ExchangesChecked => Interlocked.Read(ref _checked);

    public void Clear()
    {
        lock (_gate) _violations.Clear();
    }

    /// <summary>Throws <see cref="ContractViolationException"/> listing every violation, if there is any.</summary>
    public void EnsureNoViolations()
    {
        var found = Violations;
        if (found.Count > 0) throw new ContractViolationException(found, ExchangesChecked);
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var n = Interlocked.Increment(ref _seen);
        if (n > Sampling.AlwaysCheckFirst && n % Sampling.CheckEvery != 0)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        Interlocked.Increment(ref _checked);

        var request = context.Request;
        request.EnableBuffering();
        byte[] requestBody;
        using (var copy = new MemoryStream())
        {
            await request.Body.CopyToAsync(copy, context.RequestAborted).ConfigureAwait(false);
            requestBody = copy.ToArray();
        }
        request.Body.Position = 0;
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var method = request.Method;
        var path = (request.PathBase + request.Path).ToUriComponent();
        var query = request.QueryString.Value;
        var requestContentType = request.ContentType;

        var originalBody = context.Response.Body;
        using var responseBody = new MemoryStream();
        context.Response.Body = responseBody;
        try
        {
            await next(context).ConfigureAwait(false);
            // Whatever the stand-in wrote through Response.BodyWriter may still sit in the pipe's buffer.
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = originalBody;
        }

        var exchange = new ContractExchange(method, path)
        {
            Query = query,
            RequestHeaders = headers,
            RequestContentType = requestContentType,
            RequestBody = requestBody,
            Status = context.Response.StatusCode,
            ResponseContentType = context.Response.ContentType,
            ResponseBody = new ReadOnlyMemory<byte>(responseBody.GetBuffer(), 0, (int)responseBody.Length),
        };
        IReadOnlyList<ContractViolation> found;
        try
        {
            found = Check.Check(exchange);
        }
        catch (Exception ex)
        {
            // A fault of the checker must not change what the client sees; it shows up as a violation.
            found = [new ContractViolation(method.ToUpperInvariant(), path, ContractDirection.Response, $"the contract check itself failed: {ex}")];
        }
        if (found.Count > 0)
        {
            lock (_gate) _violations.AddRange(found);
        }

        if (responseBody.Length > 0)
        {
            responseBody.Position = 0;
            await responseBody.CopyToAsync(originalBody, context.RequestAborted).ConfigureAwait(false);
        }
    }
}

/// <summary>Thrown by <see cref="ContractCheckMiddleware.EnsureNoViolations"/>; the message lists the violations.</summary>
public sealed class ContractViolationException(IReadOnlyList<ContractViolation> violations, long exchangesChecked)
    : Exception(Describe(violations, exchangesChecked))
{
    public IReadOnlyList<ContractViolation> Violations { get; } = violations;

    private static string Describe(IReadOnlyList<ContractViolation> violations, long exchangesChecked) =>
        $"{violations.Count} contract violation(s) in {exchangesChecked} checked exchange(s):{Environment.NewLine}"
        + string.Join(Environment.NewLine, violations.Take(50).Select(v => "  " + v))
        + (violations.Count > 50 ? $"{Environment.NewLine}  … and {violations.Count - 50} more" : "");
}

public static class ContractCheckApplicationBuilderExtensions
{
    /// <summary>Adds contract checking at this point of the pipeline (add it first) and returns the
    /// middleware, whose <see cref="ContractCheckMiddleware.Violations"/> the test reads.</summary>
    public static ContractCheckMiddleware UseContractCheck(this IApplicationBuilder app, ContractCheck check, ContractSampling? sampling = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var middleware = new ContractCheckMiddleware(check, sampling);
        app.Use(middleware.InvokeAsync);
        return middleware;
    }
}
