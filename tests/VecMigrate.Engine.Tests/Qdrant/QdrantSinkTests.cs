using System.Text.Json;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Testing;
using VecMigrate.Testing.StandIns;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>Shared pieces of the sink tests: schemas, records, a sink over the stand-in, reading a collection back.</summary>
internal static class QdrantSinkKit
{
    public static SourceSchema Schema(SourceKind kind, IdKinds ids, bool namespaces, params VectorField[] vectors) =>
        new(kind, "src", ids, vectors, namespaces, kind == SourceKind.Pinecone ? "metadata" : "payload");

    public static VectorRecord Record(PointId id, SourceSchema? schema, string? payload, params (string Name, VectorValue Value)[] vectors) =>
        new(id, vectors.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal), payload is null ? null : JsonPayload.FromString(payload)) { Schema = schema };

    public static QdrantSink Sink(QdrantClient client, string collection) => Sink(client, new QdrantSinkOptions(collection));

    public static QdrantSink Sink(QdrantClient client, QdrantSinkOptions options, Action<QdrantBatchCommitted>? committed = null) =>
        new(client, options) { BatchCommitted = committed };

    public static async Task<List<VectorRecord>> ReadBackAsync(QdrantClient client, string collection) =>
        await new QdrantSource(client).ReadAsync(new QdrantReadOptions(collection) { PageSize = 97 }).ToListAsync();

    public static JsonElement PayloadOf(VectorRecord r) => JsonDocument.Parse(r.Payload!.Utf8Json).RootElement;
}

public sealed class QdrantSinkTests(QdrantStandInFixture fx) : IClassFixture<QdrantStandInFixture>
{
    private static readonly SourceSchema Named = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned | IdKinds.Uuid, false,
        new VectorField("text", VectorKind.Dense, 4, DistanceMetric.Cosine),
        new VectorField("image", VectorKind.Dense, 3, DistanceMetric.Euclid),
        new VectorField("colbert", VectorKind.Multi, 2, DistanceMetric.Dot),
        new VectorField("bm25", VectorKind.Sparse, null));

    private static VectorRecord NamedRecord(PointId id, float seed, string? payload = "{}") => QdrantSinkKit.Record(id, Named, payload,
        ("text", new DenseVector([seed, 1, 2, 3])), ("image", new DenseVector([seed, -1, 0.5f])),
        ("colbert", new MultiVector([[seed, 1], [2, 3]])), ("bm25", new SparseVector([7, 3], [0.5f, seed])));

    private static VectorRecord DenseRecord(PointId id, float[] v, string? payload = null, SourceSchema? schema = null, string? ns = null, string? position = null) =>
        new(id, new Dictionary<string, VectorValue> { [""] = new DenseVector(v) }, payload is null ? null : JsonPayload.FromString(payload))
        {
            Schema = schema, Namespace = ns, Position = position,
        };

    private static SourceSchema Unnamed(int dim, DistanceMetric metric = DistanceMetric.Dot, IdKinds ids = IdKinds.Unsigned, bool namespaces = false) =>
        QdrantSinkKit.Schema(namespaces ? SourceKind.Pinecone : SourceKind.Qdrant, ids, namespaces, new VectorField("", VectorKind.Dense, dim, metric));

    [Fact]
    public async Task A_missing_collection_is_created_from_the_schema_with_named_dense_multi_and_sparse_vectors()
    {
        var name = NewCollectionName();
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { SparseModifiers = new Dictionary<string, string> { ["bm25"] = "idf" } }))
        {
            await sink.WriteAsync(NamedRecord(1UL, 0.25f));
            await sink.FlushAsync();
            Assert.True(sink.CreatedCollection);
            Assert.Empty(sink.Plan!.Problems);
        }

        var info = await client.GetCollectionAsync(name);
        Assert.False(info.HasUnnamedVector);
        Assert.Equal(["text:4:Cosine:False", "image:3:Euclid:False", "colbert:2:Dot:True"],
            info.Vectors.Select(v => $"{v.Name}:{v.Size}:{v.DistanceName}:{v.IsMultivector}"));
        Assert.Equal("bm25", Assert.Single(info.SparseVectors).Name);
        Assert.Equal("idf", info.SparseVectors[0].Modifier);
        Assert.Equal(1, fx.Server.Count(name));
    }

    [Fact]
    public async Task A_pinecone_schema_gets_an_unnamed_dense_vector_beside_a_named_sparse_one()
    {
        var name = NewCollectionName();
        var schema = QdrantSinkKit.Schema(SourceKind.Pinecone, IdKinds.String, true,
            new VectorField("", VectorKind.Dense, 3, DistanceMetric.Dot), new VectorField("sparse", VectorKind.Sparse, null, DistanceMetric.Dot));
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, name))
        {
            await sink.WriteAsync(new VectorRecord("both", new Dictionary<string, VectorValue> { [""] = new DenseVector([1, 2, 3]), ["sparse"] = new SparseVector([5], [0.5f]) }, null)
            {
                Schema = schema, Namespace = "",
            });
            await sink.WriteAsync(DenseRecord("dense-only", [4, 5, 6], schema: schema, ns: ""));
            await sink.FlushAsync();
        }
        var info = await client.GetCollectionAsync(name);
        Assert.True(info.HasUnnamedVector);
        Assert.Equal(3, Assert.Single(info.Vectors).Size);
        Assert.Equal("sparse", Assert.Single(info.SparseVectors).Name);

        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        var both = Assert.Single(back, r => r.Id == QdrantPointIds.ToQdrant("both", ""));
        Assert.Equal(["", "sparse"], both.Vectors.Keys.Order(StringComparer.Ordinal));
        var denseOnly = Assert.Single(back, r => r.Id == QdrantPointIds.ToQdrant("dense-only", ""));
        AssertSameFloats([4, 5, 6], denseOnly.Embedding!);
    }

    [Fact]
    public async Task An_unknown_metric_without_a_distance_option_is_refused_before_anything_is_created()
    {
        var name = NewCollectionName();
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, name);
        var ex = await ThrowsQdrant("QdrantDistanceRequired", () => sink.WriteAsync(DenseRecord(1UL, [1, 2], schema: Unnamed(2, DistanceMetric.Unknown))).AsTask());
        Assert.Contains("Distance option", ex.Message);
        Assert.Contains("the unnamed vector", ex.Message);
        Assert.DoesNotContain(name, fx.Server.Collections);
    }

    [Fact]
    public async Task The_distance_option_supplies_the_metric_the_source_lacks()
    {
        var name = NewCollectionName();
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { Distance = DistanceMetric.Manhattan }))
        {
            await sink.WriteAsync(DenseRecord(1UL, [1, 2])); // no schema at all: shaped from the record
            await sink.FlushAsync();
        }
        var info = await client.GetCollectionAsync(name);
        Assert.Equal(DistanceMetric.Manhattan, Assert.Single(info.Vectors).Distance);
        Assert.True(info.HasUnnamedVector);
    }

    [Fact]
    public async Task An_incompatible_collection_is_refused_with_every_problem_before_any_point_is_written()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name,
            [new QdrantStandInVector("text", 5, "Cosine"), new QdrantStandInVector("colbert", 2, "Dot"), new QdrantStandInVector("bm25", 3, "Dot")],
            []);
        var upsertsBefore = fx.Server.Upserts.Count;
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, name);
        var ex = await ThrowsQdrant("QdrantCollectionIncompatible", () => sink.WriteAsync(NamedRecord(1UL, 1)).AsTask());
        Assert.Equal(FailureKind.IncompatibleTarget, ex.Kind);
        Assert.Contains("vector 'text' has 4 dimensions in the source but 5 in the collection", ex.Message);
        Assert.Contains("the collection has no dense vector 'image'", ex.Message);
        Assert.Contains("vector 'colbert' is a multivector in the source but a plain dense vector in the collection", ex.Message);
        Assert.Contains("vector 'bm25' is sparse in the source but dense in the collection", ex.Message);
        Assert.Contains("Nothing was written", ex.Message);
        Assert.Equal(0, fx.Server.Count(name));
        Assert.Equal(upsertsBefore, fx.Server.Upserts.Count);
    }

    [Fact]
    public async Task Named_and_unnamed_vectors_that_do_not_match_are_problems()
    {
        var unnamed = NewCollectionName();
        fx.Server.CreateCollection(unnamed, new QdrantStandInVector("", 4, "Cosine"));
        var named = NewCollectionName();
        fx.Server.CreateCollection(named, new QdrantStandInVector("a", 2, "Dot"), new QdrantStandInVector("b", 2, "Dot"));
        using var client = fx.Client();

        await using var toUnnamed = QdrantSinkKit.Sink(client, unnamed);
        var plan = await toUnnamed.PlanAsync(NamedRecord(1UL, 1));
        Assert.Contains(plan.Problems, p => p.Contains("the source's vector 'text' is named, but the collection has a single unnamed vector"));

        await using var toNamed = QdrantSinkKit.Sink(client, named);
        var ex = await ThrowsQdrant("QdrantCollectionIncompatible", () => toNamed.WriteAsync(DenseRecord(1UL, [1, 2], schema: Unnamed(2))).AsTask());
        Assert.Contains("the source's unnamed vector has no place: the collection's dense vectors are all named ('a', 'b')", ex.Message);
    }

    [Fact]
    public async Task Another_distance_in_an_existing_collection_is_only_a_warning()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, "Dot"));
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, name);
        await sink.WriteAsync(DenseRecord(1UL, [3, 4], schema: Unnamed(2, DistanceMetric.Cosine)));
        await sink.FlushAsync();
        Assert.Contains("uses Cosine distance in the source but Dot in the collection", Assert.Single(sink.Plan!.Warnings));
        AssertSameFloats([3, 4], fx.Server.Points(name)[0].Embedding!); // a Dot space keeps values as they are
    }

    [Fact]
    public async Task A_missing_collection_is_not_created_when_creation_is_off()
    {
        var name = NewCollectionName();
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { CreateCollection = false });
        await ThrowsQdrant("QdrantCollectionNotFound", () => sink.WriteAsync(DenseRecord(1UL, [1], schema: Unnamed(1))).AsTask());
        Assert.DoesNotContain(name, fx.Server.Collections);
    }

    [Fact]
    public void Uuid5_follows_rfc_9562_and_vecmigrates_mapping_is_pinned()
    {
        // RFC 9562 appendix A.4: the DNS namespace and "www.example.com".
        Assert.Equal(Guid.Parse("2ed6657d-e927-568b-95e1-2665a8aea6a2"),
            QdrantPointIds.Version5(Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "www.example.com"u8));
        // VecMigrate's own mapping must never move: reruns would stop hitting the same points.
        Assert.Equal(Guid.Parse("f5d0c102-903a-50ad-a604-508438ef7f84"), QdrantPointIds.ForString("doc-1", null));
        Assert.Equal(Guid.Parse("1af35f0a-3dbe-5bdc-9874-96fa08578388"), QdrantPointIds.ForString("doc-1", "prod"));
        Assert.Equal(Guid.Parse("90ad8bed-6900-57cc-98ab-35d252ab7db8"), QdrantPointIds.ForString("doc-1", ""));
        Assert.Equal(Guid.Parse("5b6ff216-0f1b-51a5-8da2-3ec44dbc111f"), QdrantPointIds.ForString("ünï 日本", null));
        Assert.Equal(PointId.FromUnsigned(42), QdrantPointIds.ToQdrant(42UL, "ns")); // integers and UUIDs stay
        Assert.Equal(QdrantPointIds.ForString(new string('x', 3000), null), QdrantPointIds.ForString(new string('x', 3000), null));
    }

    [Fact]
    public async Task String_ids_become_the_same_uuid5_on_every_run_with_the_original_id_in_the_payload()
    {
        var name = NewCollectionName();
        var schema = Unnamed(2, ids: IdKinds.String);
        using var client = fx.Client();
        for (var run = 0; run < 2; run++)
        {
            await using var sink = QdrantSinkKit.Sink(client, name);
            await sink.WriteAsync(DenseRecord("42", [run, 1], """{"k":"v"}""", schema));
            await sink.WriteAsync(DenseRecord("042", [run, 2], null, schema));
            await sink.FlushAsync();
        }
        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        Assert.Equal(2, back.Count); // the second run replaced the first run's points
        var p42 = Assert.Single(back, r => r.Id == PointId.FromUuid(QdrantPointIds.ForString("42", null)));
        Assert.Equal(5, (p42.Id.AsUuid.ToByteArray(bigEndian: true)[6] >> 4)); // version 5
        AssertSameFloats([1, 1], p42.Embedding!);
        Assert.True(JsonPayload.DeepEquals("""{"k":"v","original_id":"42"}"""u8, p42.Payload!.Utf8Json.Span), p42.Payload.ToString());
        var p042 = Assert.Single(back, r => r.Id == PointId.FromUuid(QdrantPointIds.ForString("042", null)));
        Assert.Equal("""{"original_id":"042"}""", p042.Payload!.ToString());
    }

    [Fact]
    public async Task The_same_id_in_two_namespaces_makes_two_points_that_keep_their_namespace()
    {
        var name = NewCollectionName();
        var schema = Unnamed(2, ids: IdKinds.String, namespaces: true);
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { NamespaceField = "_ns", OriginalIdField = "_id" }))
        {
            await sink.WriteAsync(DenseRecord("same", [1, 0], """{"side":"left"}""", schema, ns: "left"));
            await sink.WriteAsync(DenseRecord("same", [0, 1], """{"side":"right"}""", schema, ns: "right"));
            await sink.WriteAsync(DenseRecord("same", [1, 1], null, schema, ns: ""));
            await sink.FlushAsync();
        }
        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        Assert.Equal(3, back.Count);
        foreach (var ns in new[] { "left", "right", "" })
        {
            var r = Assert.Single(back, b => b.Id == PointId.FromUuid(QdrantPointIds.ForString("same", ns)));
            var payload = QdrantSinkKit.PayloadOf(r);
            Assert.Equal(ns, payload.GetProperty("_ns").GetString());
            Assert.Equal("same", payload.GetProperty("_id").GetString());
            if (ns.Length > 0) Assert.Equal(ns, payload.GetProperty("side").GetString());
        }
    }

    [Fact]
    public async Task A_payload_that_already_holds_the_same_original_id_is_sent_unchanged()
    {
        var name = NewCollectionName();
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, name))
        {
            await sink.WriteAsync(DenseRecord("a", [1, 2], """{"original_id":"a","x":[1,{"y":null}]}""", Unnamed(2, ids: IdKinds.String)));
            await sink.FlushAsync();
        }
        Assert.Equal("""{"original_id":"a","x":[1,{"y":null}]}""", fx.Server.Points(name)[0].Payload!.ToString());
    }

    [Fact]
    public async Task Requests_are_cut_by_bytes_and_none_exceeds_the_limit()
    {
        var name = NewCollectionName();
        var schema = Unnamed(64);
        var rng = new Random(64);
        var records = Enumerable.Range(0, 300).Select(i => DenseRecord((ulong)i, RandomVector(rng, 64), $$"""{"i":{{i}},"pad":"{{new string('p', i % 50)}}"}""", schema)).ToList();
        const int limit = 24_000;
        using var client = fx.Client();
        var before = fx.Server.Upserts.Count;
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { MaxRequestBytes = limit, BatchSize = 10_000 }))
        {
            foreach (var r in records) await sink.WriteAsync(r);
            await sink.FlushAsync();
            Assert.Equal(300, sink.Summary.RecordsWritten);
        }
        var upserts = fx.Server.Upserts.Skip(before).ToList();
        Assert.True(upserts.Count >= 10, $"{upserts.Count} requests");
        Assert.All(upserts, u => Assert.True(u.Bytes <= limit, $"a request of {u.Bytes} bytes"));
        Assert.True(upserts.Take(upserts.Count - 1).All(u => u.Bytes > limit * 0.9), "each request is filled before the next starts");
        Assert.Equal(300, upserts.Sum(u => u.Points));
        RecordAssert.SameSet(records, await QdrantSinkKit.ReadBackAsync(client, name), sparseZerosDropped: false);
    }

    [Fact]
    public async Task Requests_are_cut_by_count_and_each_acknowledged_batch_reports_its_last_position()
    {
        var name = NewCollectionName();
        var schema = Unnamed(2);
        var committed = new List<QdrantBatchCommitted>();
        using var client = fx.Client();
        var before = fx.Server.Upserts.Count;
        await using (var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { BatchSize = 10 }, committed.Add))
        {
            for (var i = 0; i < 35; i++) await sink.WriteAsync(DenseRecord((ulong)i, [i, 1], null, schema, position: $"pos-{i}"));
            Assert.Equal(3, committed.Count); // sent as they filled up
            await sink.FlushAsync();
        }
        Assert.Equal([10, 10, 10, 5], fx.Server.Upserts.Skip(before).Select(u => u.Points));
        Assert.Equal(["pos-9", "pos-19", "pos-29", "pos-34"], committed.Select(c => c.LastPosition));
        Assert.Equal([10L, 20, 30, 35], committed.Select(c => c.Summary.RecordsWritten));
        Assert.Equal([10, 10, 10, 5], committed.Select(c => c.Records));
    }

    [Fact]
    public async Task A_record_larger_than_a_request_may_be_is_rejected_and_the_others_are_written()
    {
        var name = NewCollectionName();
        var schema = Unnamed(2);
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { MaxRequestBytes = 2048 });
        await sink.WriteAsync(DenseRecord(1UL, [1, 1], null, schema));
        var ex = await Assert.ThrowsAsync<RecordRejectedException>(() => sink.WriteAsync(DenseRecord(2UL, [2, 2], $$"""{"big":"{{new string('b', 3000)}}"}""", schema)).AsTask());
        Assert.Equal("QdrantRecordTooLarge", ex.ErrorId);
        Assert.Contains("2,048", ex.Message);
        Assert.Equal(0, sink.Summary.BatchesCommitted); // refused before the batch beside it had to be sent
        await sink.WriteAsync(DenseRecord(3UL, [3, 3], null, schema));
        await sink.FlushAsync();
        Assert.Equal([1UL, 3UL], fx.Server.Points(name).Select(p => p.Id.AsUnsigned));
        Assert.Equal(1, sink.Summary.RecordsRejected);
        Assert.Equal(2, sink.Summary.RecordsWritten);
    }

    [Fact]
    public async Task Rate_limits_and_unavailability_are_retried_until_the_batch_is_acknowledged()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, "Dot"));
        using var client = fx.Client();
        await using var sink = QdrantSinkKit.Sink(client, name);
        var injected = fx.Server.Faults.Injected;
        fx.Server.Faults.FailNext(1, 429, TimeSpan.FromMilliseconds(1), pathEndsWith: "/points");
        fx.Server.Faults.FailNext(2, 503, pathEndsWith: "/points");
        await sink.WriteAsync(DenseRecord(7UL, [1, 2], null, Unnamed(2)));
        await sink.FlushAsync();
        Assert.Equal(3, fx.Server.Faults.Injected - injected);
        Assert.Equal(1, fx.Server.Count(name));
        Assert.Equal(1, sink.Summary.BatchesCommitted);
    }

    [Fact]
    public async Task A_batch_that_keeps_failing_stops_the_sink_naming_its_ids_and_earlier_batches_stay()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, new QdrantStandInVector("", 2, "Dot"));
        using var client = fx.Client();
        // After the first batch is acknowledged, every upsert fails: more than the transport's four attempts.
        await using var sink = QdrantSinkKit.Sink(client, new QdrantSinkOptions(name) { BatchSize = 3 },
            _ => fx.Server.Faults.FailNext(5, 503, pathEndsWith: "/points"));
        var schema = Unnamed(2);
        for (var i = 1; i <= 5; i++) await sink.WriteAsync(DenseRecord((ulong)i, [i, i], null, schema));
        var ex = await ThrowsQdrant("QdrantBatchFailed", () => sink.WriteAsync(DenseRecord(6UL, [6, 6], null, schema)).AsTask());
        fx.Server.Faults.Clear();
        Assert.Equal(FailureKind.Unreachable, ex.Kind); // Qdrant kept failing (5xx): the kind of the last answer
        Assert.Contains($"'{name}'", ex.Message);
        Assert.Contains("ids 4 to 6", ex.Message);
        Assert.Contains("The 3 records of the 1 batches acknowledged before it stay", ex.Message);
        Assert.Contains("safe", ex.Message);
        Assert.Equal("QdrantServerError", Assert.IsType<VecMigrateException>(ex.InnerException).ErrorId);
        Assert.Equal([1UL, 2, 3], fx.Server.Points(name).Select(p => p.Id.AsUnsigned));
        await Assert.ThrowsAsync<InvalidOperationException>(() => sink.WriteAsync(DenseRecord(7UL, [7, 7], null, schema)).AsTask());
    }

    [Fact]
    public async Task Floats_arrive_bit_for_bit_where_the_distance_keeps_them()
    {
        var name = NewCollectionName();
        float[] extremes = [float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1.17549435e-38f, -0f, 0f, MathF.PI, 1e-45f, 0.1f, 16777217f, 3.4028233e38f];
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, name))
        {
            await sink.WriteAsync(DenseRecord(1UL, extremes, null, Unnamed(extremes.Length, DistanceMetric.Euclid)));
            await sink.FlushAsync();
        }
        AssertSameFloats(extremes, (await QdrantSinkKit.ReadBackAsync(client, name))[0].Embedding!);
    }

    [Fact]
    public async Task Cosine_vectors_come_back_normalized_as_qdrant_stores_them()
    {
        var name = NewCollectionName();
        var schema = QdrantSinkKit.Schema(SourceKind.Qdrant, IdKinds.Unsigned, false,
            new VectorField("v", VectorKind.Dense, 2, DistanceMetric.Cosine), new VectorField("m", VectorKind.Multi, 2, DistanceMetric.Cosine));
        var rng = new Random(5);
        var records = new List<VectorRecord>
        {
            QdrantSinkKit.Record(1UL, schema, null, ("v", new DenseVector([3, 4])), ("m", new MultiVector([[0, 2], [5, 12]]))),
            QdrantSinkKit.Record(2UL, schema, null, ("v", new DenseVector([0, 0]))), // a zero vector stays zero
        };
        records.AddRange(Enumerable.Range(3, 50).Select(i => QdrantSinkKit.Record((ulong)i, schema, null,
            ("v", new DenseVector(RandomVector(rng, 2))), ("m", new MultiVector([RandomVector(rng, 2), RandomVector(rng, 2)])))));
        using var client = fx.Client();
        await using (var sink = QdrantSinkKit.Sink(client, name))
        {
            foreach (var r in records) await sink.WriteAsync(r);
            await sink.FlushAsync();
        }
        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        AssertSameFloats([0.6f, 0.8f], ((DenseVector)back[0].Vectors["v"]).Values);
        AssertSameFloats([0, 1], ((MultiVector)back[0].Vectors["m"]).Vectors[0]);
        AssertSameFloats([0, 0], ((DenseVector)back[1].Vectors["v"]).Values);
        var withPayload = records.Select(r => new VectorRecord(r.Id, r.Vectors, JsonPayload.FromString("{}"))).ToList();
        RecordAssert.SameSet(withPayload, back, normalized: NormalizedVectors.Of("v", "m"));
        var ex = Assert.Throws<Xunit.Sdk.XunitException>(() => RecordAssert.SameSet(withPayload, back));
        Assert.Contains("vector 'v'", ex.Message); // compared as plain values they differ: the test can fail
    }

    [Fact]
    public void Normalize_is_qdrants_float32_arithmetic_and_the_tolerance_separates_summation_order_from_error()
    {
        AssertSameFloats([0.6f, 0.8f], VectorMath.Normalize([3, 4]));
        AssertSameFloats([0, 0, 0], VectorMath.Normalize([0, 0, 0]));
        float[] input = [3, 4];
        VectorMath.Normalize(input);
        AssertSameFloats([3, 4], input); // the input is never changed
        AssertSameFloats([0.6f, 0.8f], VectorMath.Normalize([0.6f, 0.8f])); // already normalized: left alone

        var rng = new Random(11);
        var v = RandomVector(rng, 1024);
        var forward = VectorMath.Normalize(v);
        // The same vector normalized with its squares added backwards: what another summation order gives.
        var sum = 0f;
        for (var i = v.Length - 1; i >= 0; i--) sum += v[i] * v[i];
        var backward = v.Select(x => x / MathF.Sqrt(sum)).ToArray();
        Assert.Null(RecordAssert.NormalizedDifference(new DenseVector(v), new DenseVector(backward), exact: false));
        var scaled = forward.Select(x => x * 1.001f).ToArray();
        Assert.NotNull(RecordAssert.NormalizedDifference(new DenseVector(v), new DenseVector(scaled), exact: false));
    }
    [Fact]
    public void Create_collection_bodies_take_qdrants_unnamed_named_and_sparse_only_forms()
    {
        string Body(IReadOnlyList<QdrantVectorParams> v, IReadOnlyList<QdrantSparseVectorParams> sp) =>
            System.Text.Encoding.UTF8.GetString(QdrantClient.CreateCollectionBody(v, sp));
        var unnamed = new QdrantVectorParams("", 3, DistanceMetric.Dot, "Dot", null, null);
        Assert.Equal("""{"vectors":{"size":3,"distance":"Dot"},"sparse_vectors":{"sparse":{}}}""",
            Body([unnamed], [new QdrantSparseVectorParams("sparse", null, null)]));
        Assert.Equal("""{"vectors":{"a":{"size":2,"distance":"Cosine"},"m":{"size":4,"distance":"Manhattan","multivector_config":{"comparator":"max_sim"}}}}""",
            Body([new QdrantVectorParams("a", 2, DistanceMetric.Cosine, "Cosine", null, null), new QdrantVectorParams("m", 4, DistanceMetric.Manhattan, "", null, "max_sim")], []));
        Assert.Equal("""{"vectors":{},"sparse_vectors":{"bm25":{"modifier":"idf"}}}""", Body([], [new QdrantSparseVectorParams("bm25", "idf", null)]));
        Assert.Throws<ArgumentException>(() => Body([unnamed, new QdrantVectorParams("b", 1, DistanceMetric.Dot, "Dot", null, null)], []));
        Assert.Throws<ArgumentException>(() => Body([], [new QdrantSparseVectorParams("", null, null)]));
        Assert.Throws<ArgumentException>(() => Body([new QdrantVectorParams("x", 1, DistanceMetric.Dot, "Dot", null, null)], [new QdrantSparseVectorParams("x", null, null)]));
    }

    [Fact]
    public async Task The_client_upserts_records_whose_ids_are_already_qdrant_ids()
    {
        var name = NewCollectionName();
        fx.Server.CreateCollection(name, [new QdrantStandInVector("", 2, "Euclid")], [new QdrantStandInSparse("s")]);
        using var client = fx.Client();
        var result = await client.UpsertAsync(name, [
            QdrantSinkKit.Record(5UL, null, """{"a":1}""", ("", new DenseVector([1, 2]))),
            QdrantSinkKit.Record(Guid.Parse("00000000-0000-0000-0000-000000000009"), null, null, ("", new DenseVector([3, 4])), ("s", new SparseVector([2], [0.5f]))),
        ]);
        Assert.Equal("completed", result.Status);
        var back = await QdrantSinkKit.ReadBackAsync(client, name);
        AssertSameFloats([1, 2], back[0].Embedding!);
        Assert.Equal(["", "s"], back[1].Vectors.Keys.Order(StringComparer.Ordinal));
        await Assert.ThrowsAsync<ArgumentException>(() => client.UpsertAsync(name, [QdrantSinkKit.Record("text-id", null, null, ("", new DenseVector([1, 2])))]));
    }
}
