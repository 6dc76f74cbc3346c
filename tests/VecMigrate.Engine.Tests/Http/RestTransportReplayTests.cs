using System.Net;
using VecMigrate.Engine.Http;

namespace VecMigrate.Engine.Tests.Http;

/// <summary>
/// A request that must not arrive twice (an insert that gives rows Auto ID keys) is sent again only where the server
/// certainly did not take it; every other request is retried as before.
/// </summary>
public sealed class RestTransportReplayTests
{
    private sealed class Scripted(Func<int, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(Interlocked.Increment(ref Calls)));
    }

    private static readonly RetryPolicy Fast = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };

    private static async Task<int> CallsAsync(Func<int, HttpResponseMessage> answer, bool replayable)
    {
        var handler = new Scripted(answer);
        using var transport = new RestTransport(Fast, TimeSpan.FromSeconds(5), handler: handler, firstContact: Fast);
        try
        {
            using var response = await transport.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:9/v2/vectordb/entities/insert"),
                "Inserting", "Test", CancellationToken.None, replayable: replayable);
        }
        catch (VecMigrateException)
        {
        }
        return handler.Calls;
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, 3, 1)]  // may have been taken
    [InlineData(HttpStatusCode.BadGateway, 3, 1)]
    [InlineData(HttpStatusCode.GatewayTimeout, 3, 1)]
    [InlineData(HttpStatusCode.ServiceUnavailable, 3, 3)]  // the server says it did not take it
    [InlineData(HttpStatusCode.TooManyRequests, 3, 3)]
    public async Task Statuses_that_leave_the_outcome_open_are_not_sent_again_unless_replayable(HttpStatusCode status, int replayable, int once)
    {
        Assert.Equal(replayable, await CallsAsync(_ => new HttpResponseMessage(status), replayable: true));
        Assert.Equal(once, await CallsAsync(_ => new HttpResponseMessage(status), replayable: false));
    }

    [Fact]
    public async Task A_timeout_or_a_connection_broken_after_sending_is_not_sent_again_unless_replayable()
    {
        Assert.Equal(3, await CallsAsync(_ => throw new TaskCanceledException("timed out"), replayable: true));
        Assert.Equal(1, await CallsAsync(_ => throw new TaskCanceledException("timed out"), replayable: false));
        Assert.Equal(1, await CallsAsync(_ => throw new HttpRequestException(HttpRequestError.ResponseEnded, "the server closed the connection"), replayable: false));
        // Refused before anything was sent: safe to send again either way.
        Assert.Equal(3, await CallsAsync(_ => throw new HttpRequestException(HttpRequestError.ConnectionError, "refused"), replayable: false));
    }
}
