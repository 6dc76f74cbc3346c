using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Tests.Pipeline;

public class CancellationTests
{
    [Fact]
    public void A_callback_that_throws_neither_escapes_nor_stops_the_others()
    {
        using var source = new CancellationTokenSource();
        var ran = 0;
        source.Token.Register(() => Interlocked.Increment(ref ran));
        source.Token.Register(() => throw new NullReferenceException("as Npgsql's callback did"));
        source.Token.Register(() => Interlocked.Increment(ref ran));

        source.CancelQuietly();

        Assert.True(source.IsCancellationRequested);
        Assert.Equal(2, ran);
        Assert.Throws<AggregateException>(() => { using var plain = new CancellationTokenSource(); plain.Token.Register(() => throw new NullReferenceException()); plain.Cancel(); });
    }

    [Fact]
    public void Cancelling_a_disposed_source_is_quiet()
    {
        var source = new CancellationTokenSource();
        source.Dispose();
        source.CancelQuietly();
    }

    [Fact]
    public async Task After_cancels_once_the_delay_has_passed_even_when_a_callback_throws()
    {
        using var source = Cancellation.After(TimeSpan.FromMilliseconds(50));
        source.Token.Register(() => throw new NullReferenceException());
        Assert.False(source.IsCancellationRequested);
        var fired = new TaskCompletionSource();
        source.Token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(source.IsCancellationRequested);
    }
}
