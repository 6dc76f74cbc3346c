using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Records;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>What the resume tests share: a seeded stand-in collection and the target table read back.</summary>
internal static class ResumeKit
{
    /// <summary>Makes a collection of <paramref name="count"/> points (integer ids, then UUIDs) with payloads, and returns them.</summary>
    public static List<VectorRecord> SeedCollection(QdrantStandIn server, string collection, int count, int dimensions, int seed, double integerShare = 0.9)
    {
        server.CreateCollection(collection, new QdrantStandInVector("", dimensions, "Cosine"));
        var rng = new Random(seed);
        var records = new List<VectorRecord>(count);
        for (var i = 0; i < count; i++)
        {
            // Integers with gaps, then UUIDs: the resume position crosses from one id kind to the other.
            PointId id = i < count * integerShare ? (ulong)i * 3 + 1 : Uuid((byte)(i % 251), i);
            records.Add(Dense(id, RandomVector(rng, dimensions), $$"""{"i":{{i}},"title":"doc {{i}}"}"""));
        }
        server.Seed(collection, records);
        return records;
    }

    public static async Task<List<VectorRecord>> ReadTableAsync(string cs, string table)
    {
        var back = new List<VectorRecord>();
        await foreach (var r in new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = table, PageSize = 5000 }).ReadAsync()) back.Add(r);
        return back;
    }
}
