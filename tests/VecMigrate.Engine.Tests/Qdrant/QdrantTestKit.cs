using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.Contracts;
using VecMigrate.Testing.StandIns;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>One Qdrant stand-in (no API key) and one fast-retrying transport for a test class; tests use their own collections.</summary>
public class QdrantStandInFixture : IAsyncLifetime
{
    public QdrantStandIn Server { get; private set; } = null!;

    public RestTransport Transport { get; } = new(QdrantTestKit.FastRetry, TimeSpan.FromSeconds(60));

    /// <summary>The check the stand-in runs on every exchange; none here.</summary>
    protected virtual ContractCheck? Contracts => null;

    public async Task InitializeAsync() => Server = await QdrantStandIn.StartAsync(contracts: Contracts);

    public async Task DisposeAsync()
    {
        Transport.Dispose();
        await Server.DisposeAsync();
    }

    public QdrantClient Client() => new(Server.BaseAddress, null, Transport);
}

/// <summary>
/// The stand-in of the round-trip tests: every exchange is checked against qdrant-openapi.json when the vendor documents
/// are there (without them the tests run unchecked, as before). Tests of one class run one after another, so each
/// starts with <see cref="BeginTest"/> and ends with <see cref="AssertConforms"/> over its own exchanges.
/// </summary>
public sealed class CheckedQdrantStandInFixture : QdrantStandInFixture
{
    protected override ContractCheck? Contracts => VendorContracts.TryLoad(out var documents) ? documents.QdrantCheck() : null;

    /// <summary>Forgets what earlier tests found; returns the number of exchanges checked so far, for <see cref="AssertConforms"/>.</summary>
    public long BeginTest()
    {
        Server.Contracts?.Clear();
        return Server.Contracts?.ExchangesChecked ?? 0;
    }

    /// <summary>No violations since <see cref="BeginTest"/>, in at least <paramref name="exchanges"/> checked exchanges (nothing to assert without the documents).</summary>
    public void AssertConforms(long since, int exchanges)
    {
        if (Server.Contracts is not { } contracts) return;
        contracts.EnsureNoViolations();
        var count = contracts.ExchangesChecked - since;
        Assert.True(count >= exchanges, $"only {count} exchange(s) checked, expected {exchanges}");
    }
}

internal static class QdrantTestKit
{
    public static RetryPolicy FastRetry { get; } = new()
    {
        MaxAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(20),
    };

    public static string NewCollectionName() => "c_" + Guid.NewGuid().ToString("N")[..10];

    public static float[] RandomVector(Random random, int dimension)
    {
        var v = new float[dimension];
        for (var i = 0; i < dimension; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }

    public static VectorRecord Dense(PointId id, float[] vector, string? payloadJson = null) =>
        new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(vector) }, payloadJson is null ? null : JsonPayload.FromString(payloadJson));

    /// <summary>A UUID whose RFC bytes are <paramref name="first"/> followed by a counter: UUIDs that sort predictably.</summary>
    public static Guid Uuid(byte first, int n)
    {
        Span<byte> b = stackalloc byte[16];
        b[0] = first;
        BitConverter.TryWriteBytes(b[12..], System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(n));
        b[6] = 0x40; // version 4, for looks
        b[8] = 0x80;
        return new Guid(b, bigEndian: true);
    }

    /// <summary>A Kestrel server that answers every request with <paramref name="body"/>.</summary>
    public static Task<StandInHost> ServeAsync(int status, string body, string contentType = "application/json") =>
        StandInHost.StartAsync(app => app.Run(async ctx =>
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = contentType;
            await ctx.Response.WriteAsync(body);
        }));

    /// <summary>A scroll answer around the given points JSON.</summary>
    public static string ScrollAnswer(string pointsJson, string next = "null") =>
        $$"""{"result":{"points":[{{pointsJson}}],"next_page_offset":{{next}}},"status":"ok","time":0.001}""";

    public static async Task<List<VectorRecord>> ToListAsync(this IAsyncEnumerable<VectorRecord> source)
    {
        var list = new List<VectorRecord>();
        await foreach (var r in source) list.Add(r);
        return list;
    }

    public static void AssertSameFloats(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"element {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8})");
        }
    }

    public static async Task<VecMigrateException> ThrowsQdrant(string errorId, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<VecMigrateException>(call);
        Assert.True(ex.ErrorId == errorId, $"expected {errorId}, got {ex.ErrorId}: {ex.Message}");
        return ex;
    }
}
