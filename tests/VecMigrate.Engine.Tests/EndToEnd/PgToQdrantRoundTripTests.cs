using System.Text.Json.Nodes;
using Npgsql;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>
/// Records written to real Postgres with <see cref="PgVectorWriter"/>, read back with <see cref="PgVectorSource"/>,
/// written to the Qdrant stand-in with <see cref="QdrantSink"/> and read with <see cref="QdrantSource"/>: what arrives
/// is what went in (Cosine spaces normalized, exactly as Qdrant does it). The stand-in checks every exchange against
/// Qdrant's document (when the vendor documents are there), so the sink's requests and the answers conform too.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PgToQdrantRoundTripTests(PostgresFixture pg, CheckedQdrantStandInFixture q) : IClassFixture<CheckedQdrantStandInFixture>
{
    private readonly long _checkedBefore = q.BeginTest();

    private async Task<(List<VectorRecord> Back, QdrantWriteSummary Summary, QdrantClient Client)> ToQdrantAsync(string cs, string table, QdrantSinkOptions options)
    {
        var client = q.Client();
        await using var sink = new QdrantSink(client, options);
        var summary = await sink.WriteThroughRunnerAsync(new PgVectorSource(new PgReadOptions { ConnectionString = cs, Table = table, PageSize = 77 }).ReadAsync());
        return (await QdrantSinkKit.ReadBackAsync(client, options.Collection), summary, client);
    }

    private static async Task WritePgAsync(string cs, string table, IEnumerable<VectorRecord> records)
    {
        await using var w = new PgVectorWriter(new PgWriteOptions { ConnectionString = cs, Table = table, BatchSize = 200 });
        foreach (var r in records) await w.WriteAsync(r);
        await w.FlushAsync();
    }

    /// <summary>What Qdrant gives back for a record: no payload reads as {}; other values as they are.</summary>
    private static VectorRecord AsQdrantHasIt(VectorRecord r, PointId? id = null, JsonObject? extra = null)
    {
        var payload = r.Payload?.ToNode()?.AsObject() ?? new JsonObject();
        foreach (var (k, v) in extra ?? []) payload[k] = v?.DeepClone();
        return new VectorRecord(id ?? r.Id, r.Vectors, JsonPayload.FromString(payload.ToJsonString()));
    }

    [Fact]
    public async Task A_qdrant_shaped_table_round_trips_with_integer_and_uuid_ids_and_every_vector_kind()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Qdrant, "docs", IdKinds.Unsigned | IdKinds.Uuid,
        [
            new VectorField("text", VectorKind.Dense, 64, DistanceMetric.Cosine),
            new VectorField("image", VectorKind.Dense, 8, DistanceMetric.Euclid),
            new VectorField("bm25", VectorKind.Sparse, null, DistanceMetric.Dot),
            new VectorField("colbert", VectorKind.Multi, 4, DistanceMetric.Dot),
        ], false, "payload");
        var rng = new Random(2024);
        var ids = new List<PointId> { 0UL, 1UL, ulong.MaxValue, (ulong)long.MaxValue + 1, Guid.Empty, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff") };
        for (var i = 0; ids.Count < 600; i++) ids.Add(i % 2 == 0 ? (PointId)(ulong)rng.NextInt64() : Guid.NewGuid());
        var records = ids.Select((id, i) =>
        {
            var v = new Dictionary<string, VectorValue> { ["text"] = new DenseVector(RandomVector(rng, 64)) };
            if (i % 2 == 0) v["image"] = new DenseVector(RandomVector(rng, 8));
            if (i % 3 != 0)
            {
                var idx = Enumerable.Range(0, 1 + i % 9).Select(k => (uint)(k * 1009 + i)).ToArray();
                v["bm25"] = new SparseVector(idx, idx.Select(_ => (float)rng.NextDouble() + 0.001f).ToArray());
            }
            if (i % 5 == 0) v["colbert"] = new MultiVector(Enumerable.Range(0, 1 + i % 3).Select(_ => RandomVector(rng, 4)).ToArray());
            var payload = i % 7 == 0 ? null : $$$"""{"i":{{{i}}},"title":"doc ü {{{i}}}","f":{{{i * 0.5}}},"tags":["a","b"],"nested":{"x":[1,{"y":null}]},"ok":true}""";
            return new VectorRecord(id, v, payload is null ? null : JsonPayload.FromString(payload)) { Schema = schema };
        }).ToList();
        await WritePgAsync(cs, "docs", records);

        var name = NewCollectionName();
        var (back, summary, client) = await ToQdrantAsync(cs, "docs", new QdrantSinkOptions(name) { BatchSize = 64 });
        using var _ = client;
        Assert.Equal(600, summary.RecordsWritten);
        Assert.Equal(0, summary.RecordsRejected);
        RecordAssert.SameSet(records.Select(r => AsQdrantHasIt(r)), back, normalized: NormalizedVectors.Of("text"));
        Assert.Equal(ids.Count(i => i.Kind == PointIdKind.Uuid), back.Count(r => r.Id.Kind == PointIdKind.Uuid));

        var info = await client.GetCollectionAsync(name);
        Assert.Equal(["text:64:Cosine:False", "image:8:Euclid:False", "colbert:4:Dot:True"],
            info.Vectors.Select(v => $"{v.Name}:{v.Size}:{v.DistanceName}:{v.IsMultivector}"));
        Assert.Equal("bm25", Assert.Single(info.SparseVectors).Name);
        q.AssertConforms(_checkedBefore, 3 + 10); // describe, create, describe, 10 upserts of 64
    }

    [Fact]
    public async Task A_pinecone_shaped_table_round_trips_with_string_ids_as_uuid5_and_namespaces_kept()
    {
        var cs = await pg.NewDatabaseAsync();
        var schema = new SourceSchema(SourceKind.Pinecone, "idx", IdKinds.String,
            [new VectorField("", VectorKind.Dense, 6, DistanceMetric.Dot), new VectorField("sparse", VectorKind.Sparse, null, DistanceMetric.Dot)], true, "metadata");
        var rng = new Random(6);
        var records = new[] { "", "prod", "staging" }.SelectMany(ns => new[] { "a b", "#1&x/y", "ünï", "42", "550e8400-e29b-41d4-a716-446655440000" }.Select(id =>
        {
            var v = new Dictionary<string, VectorValue> { [""] = new DenseVector(RandomVector(rng, 6)) };
            if (id.Length % 2 == 1) v["sparse"] = new SparseVector([3, 99], [0.25f, (float)rng.NextDouble() + 0.5f]);
            return new VectorRecord(id, v, id == "42" ? null : JsonPayload.FromString($$"""{"genre":"drama","ns":"{{ns}}","year":2020}""")) { Namespace = ns, Schema = schema };
        })).ToList();
        await WritePgAsync(cs, "idx", records);

        var name = NewCollectionName();
        var (back, _, client) = await ToQdrantAsync(cs, "idx", new QdrantSinkOptions(name));
        using var _c = client;
        var expected = records.Select(r => AsQdrantHasIt(r, QdrantPointIds.ToQdrant(r.Id, r.Namespace),
            new JsonObject { ["original_id"] = r.Id.AsString, ["namespace"] = r.Namespace })).ToList();
        RecordAssert.SameSet(expected, back);
        Assert.Equal(15, back.Select(r => r.Id).Distinct().Count()); // one id in three namespaces: three points
        Assert.All(back, r => Assert.Equal(PointIdKind.Uuid, r.Id.Kind)); // also "42" and the UUID-looking string
        var info = await client.GetCollectionAsync(name);
        Assert.True(info.HasUnnamedVector);
        Assert.Equal("sparse", Assert.Single(info.SparseVectors).Name);
        q.AssertConforms(_checkedBefore, 3 + 1);
    }

    [Fact]
    public async Task A_plain_table_without_a_metric_needs_a_distance_then_arrives_with_its_columns_as_payload()
    {
        var cs = await pg.NewDatabaseAsync();
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                CREATE EXTENSION IF NOT EXISTS vector;
                CREATE TABLE notes (key text PRIMARY KEY, title text, stars int, emb vector(3) NOT NULL);
                INSERT INTO notes VALUES ('n-1', 'one', 5, '[1,2,3]'), ('n-2', NULL, NULL, '[0.5,-0.25,1e-7]');
                """, conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var name = NewCollectionName();
        var ex = await Assert.ThrowsAsync<VecMigrateException>(() => ToQdrantAsync(cs, "notes", new QdrantSinkOptions(name)));
        Assert.Equal("QdrantDistanceRequired", ex.ErrorId);
        Assert.DoesNotContain(name, q.Server.Collections);

        var (back, _, client) = await ToQdrantAsync(cs, "notes", new QdrantSinkOptions(name) { Distance = DistanceMetric.Euclid });
        using var _c = client;
        Assert.Equal(2, back.Count);
        var n1 = Assert.Single(back, r => r.Id == PointId.FromUuid(QdrantPointIds.ForString("n-1", null)));
        AssertSameFloats([1, 2, 3], n1.Embedding!);
        Assert.True(JsonPayload.DeepEquals("""{"title":"one","stars":5,"original_id":"n-1"}"""u8, n1.Payload!.Utf8Json.Span), n1.Payload.ToString());
        var n2 = Assert.Single(back, r => r.Id == PointId.FromUuid(QdrantPointIds.ForString("n-2", null)));
        AssertSameFloats([0.5f, -0.25f, 1e-7f], n2.Embedding!);
        q.AssertConforms(_checkedBefore, 1 + 3 + 1);
    }
}
