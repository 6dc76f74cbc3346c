using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Postgres;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using VecMigrate.Engine.Tests.Qdrant;
using VecMigrate.Testing;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.EndToEnd;

/// <summary>Qdrant (stand-in) → Postgres through the migration runner: stopped runs resume from the checkpoint in the target database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QdrantToPgResumeTests(PostgresFixture pg, QdrantStandInFixture q) : IClassFixture<QdrantStandInFixture>
{
    private sealed class Killed() : Exception("killed");

    private static MigrationOptions Options(bool resume = true, Action<MigrationProgress>? progress = null) =>
        new() { Checkpoint = "nightly-docs", Resume = resume, Progress = progress };

    private static PgVectorWriter Writer(string cs, string table = "docs") =>
        new(new PgWriteOptions { ConnectionString = cs, Table = table, BatchSize = 1000 });

    [Fact]
    public async Task Runs_stopped_after_any_batch_resume_from_the_database_checkpoint_and_end_exact()
    {
        var collection = NewCollectionName();
        var records = ResumeKit.SeedCollection(q.Server, collection, 12_000, 16, seed: 7);
        var inOrder = q.Server.Points(collection); // Qdrant's scroll order: what a stopped run must hold a prefix of
        var cs = await pg.NewDatabaseAsync();
        using var client = q.Client();
        var source = QdrantSource.AsMigrationSource(client, new QdrantReadOptions(collection) { PageSize = 700 });
        var store = PgCheckpointStore.Open(cs);

        long readInAll = 0;
        string? lastPosition = null;
        foreach (var stopAt in new[] { 3_000, 4_000, 9_000 })
        {
            long read = 0;
            await using (var writer = Writer(cs))
            {
                await Assert.ThrowsAsync<Killed>(() => Migration.RunAsync(source, writer, Options(progress: p =>
                {
                    read = p.RecordsRead;
                    if (p.TotalRecords >= stopAt) throw new Killed();
                })));
            }
            readInAll += read;
            var cp = Assert.Single(await store.ListAsync());
            Assert.Equal(stopAt, cp.Records);
            Assert.NotEqual(lastPosition, cp.Position);
            lastPosition = cp.Position;
            // Data and checkpoint agree, and the table holds exactly the source's first records, none twice.
            RecordAssert.SameSet(inOrder.Take(stopAt), await ResumeKit.ReadTableAsync(cs, "docs"));
        }

        MigrationSummary summary;
        await using (var writer = Writer(cs))
        {
            summary = await Migration.RunAsync(source, writer, Options());
        }
        readInAll += summary.RecordsRead;
        Assert.Equal(lastPosition, summary.ResumedAfter);
        Assert.Equal(9_000, summary.RecordsBefore);
        Assert.Equal(3_000, summary.RecordsRead); // nothing before the checkpoint is read again
        Assert.Equal(12_000, summary.TotalRecords);
        Assert.Equal(0, summary.RecordsReread);
        Assert.Equal(records.Count, readInAll);
        RecordAssert.SameSet(records, await ResumeKit.ReadTableAsync(cs, "docs"));
        var done = Assert.Single(await store.ListAsync());
        Assert.True(done.Completed);
        Assert.Equal(12_000, done.Records);

        // The next slice of a scheduled job finds the checkpoint complete and does nothing.
        await using (var writer = Writer(cs))
        {
            var again = await Migration.RunAsync(source, writer, Options());
            Assert.True(again.AlreadyComplete);
            Assert.Equal(0, again.RecordsRead);
        }
    }

    [Fact]
    public async Task A_database_checkpoint_for_another_collection_or_table_is_refused_and_removing_it_starts_over()
    {
        var a = NewCollectionName();
        var b = NewCollectionName();
        ResumeKit.SeedCollection(q.Server, a, 50, 4, seed: 1);
        var bRecords = ResumeKit.SeedCollection(q.Server, b, 60, 4, seed: 2);
        var cs = await pg.NewDatabaseAsync();
        using var client = q.Client();
        await using (var writer = Writer(cs))
        {
            await Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions(a)), writer, Options());
        }

        await using (var writer = Writer(cs))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
                Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions(b)), writer, Options()));
            Assert.Equal("MigrationCheckpointMismatch", ex.ErrorId);
            Assert.Contains($"collection '{a}' → public.docs", ex.Message);
            Assert.Contains($"collection '{b}' → public.docs", ex.Message);
        }
        await using (var writer = Writer(cs, "other"))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() =>
                Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions(a)), writer, Options()));
            Assert.Equal("MigrationCheckpointMismatch", ex.ErrorId);
            Assert.Contains("public.other", ex.Message);
        }
        Assert.Equal(50, await Postgres.PgReadBack.CountAsync(cs, "docs"));

        var store = PgCheckpointStore.Open(cs);
        Assert.Equal("nightly-docs", Assert.Single(await store.ListAsync()).Name);
        Assert.True(await store.RemoveAsync("nightly-docs"));
        Assert.Empty(await store.ListAsync());
        await using (var writer = Writer(cs, "b_docs"))
        {
            await Migration.RunAsync(QdrantSource.AsMigrationSource(client, new QdrantReadOptions(b)), writer, Options(resume: false));
        }
        RecordAssert.SameSet(bRecords, await ResumeKit.ReadTableAsync(cs, "b_docs"));
    }

    [Fact]
    public async Task An_existing_database_checkpoint_is_not_started_over_without_resume()
    {
        var name = NewCollectionName();
        ResumeKit.SeedCollection(q.Server, name, 30, 4, seed: 3);
        var cs = await pg.NewDatabaseAsync();
        using var client = q.Client();
        var source = QdrantSource.AsMigrationSource(client, new QdrantReadOptions(name));
        await using (var writer = Writer(cs))
        {
            await Migration.RunAsync(source, writer, Options());
        }
        await using (var writer = Writer(cs))
        {
            var ex = await Assert.ThrowsAsync<VecMigrateException>(() => Migration.RunAsync(source, writer, Options(resume: false)));
            Assert.Equal("MigrationCheckpointExists", ex.ErrorId);
            Assert.Contains("30 records", ex.Message);
        }
    }
}
