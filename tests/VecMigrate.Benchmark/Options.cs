using System.Globalization;

namespace VecMigrate.Benchmark;

/// <summary>The command line (see <see cref="Usage"/>).</summary>
internal sealed class Options
{
    public const string Usage = """
        VecMigrate benchmark: Postgres's own COPY rate (a) against the engine's Qdrant → pgvector rate (b) and the
        cmdlet pipeline's (c), on this machine, with a throwaway Postgres + pgvector and a Qdrant stand-in.

          dotnet run -c Release --project tests/VecMigrate.Benchmark -- [options]

          --points N            points in the collection (200000)
          --dims 1024,1536      vector dimensions to run, one collection each
          --tables logged,unlogged
          --cases a,b,g,c,cg,cv which cases to run (a: psql \copy, b: engine runner, c: pwsh pipeline; g and cg:
                                b and c reading over Qdrant's gRPC API; cv: Copy-VectorData in pwsh; also a2:
                                two psql \copy of half the rows each at once, what more connections could give)
                                al: psql \copy of the rows split into L files, L at once, for each L of --lanes;
                                p: the engine copying a Postgres table of the same rows into the table in L
                                lanes (Copy-VectorData -Parallel L), for each L of --lanes
                                m: the engine copying a Postgres table of the same rows into the Milvus stand-in
                                (client CPU a record; the stand-in keeps rows as JSON: use --points 20000 or so)
                                v: Test-VectorMigration's engine (MigrationCheck) proving a copy made by (b): both
                                sides read at once and digested; with --search-queries M, search parity as well
          --lanes 1,2,4         lanes for the al and p cases
          --search-queries M    search parity queries in case (v) (0: none; each is exact on both sides)
          --repeat R            runs of each case; the best counts (2)
          --page-size N         Qdrant scroll page size (engine default)
          --prefetch N          Qdrant pages read ahead of the writer (engine default)
          --batch-size N        records per COPY and transaction (engine default)
          --distinct-vectors N  distinct vectors in the collection; point i gets vector (i-1) mod N (100000)
          --skip-pwsh           do not run (c)
          --connection-extra S  appended to the engine's connection string (e.g. "Write Buffer Size=65536")
          --module PATH         VecMigrate.psd1 for (c) (default: the repository's, once module/bin is built)
          --stage S             what case (b) runs, to see where time goes: all (default); read (QdrantSource
                                only: fetch and parse); fetch (the scroll answers' bytes only); parse (one
                                answer parsed over and over on one thread); write (PgVectorWriter fed records
                                made in memory)

        Internal: --engine-only --url U [--grpc-url G] --collection C --connection-string S --table T [--stage S] runs case (b)
        alone in this process and prints one RESULT line; --stage lanes --source-table T2 --lanes L runs case (p) so;
        --stage check runs case (v) so; --stage milvus --source-table T2 --url U --collection C runs case (m) so.
        """;

    public long Points { get; private set; } = 200_000;
    public int[] Dims { get; private set; } = [1024, 1536];
    public string[] Tables { get; private set; } = ["logged", "unlogged"];
    public string[] Cases { get; private set; } = ["a", "b", "g", "c", "cg", "cv"];
    public int Repeat { get; private set; } = 2;
    public int[] Lanes { get; private set; } = [1, 2, 4];
    public string? SourceTable { get; private set; }
    public int PageSize { get; private set; } = Engine.Qdrant.QdrantReadOptions.DefaultPageSize;
    public int Prefetch { get; private set; } = Engine.Qdrant.QdrantReadOptions.DefaultPrefetch;
    public int BatchSize { get; private set; } = new Engine.Postgres.PgWriteOptions { Table = "x" }.BatchSize;
    public int Distinct { get; private set; } = 100_000;
    public bool SkipPwsh { get; private set; }
    public string? ConnectionExtra { get; private set; }
    public string? Module { get; private set; }

    /// <summary>The module manifest (c) imports, once found.</summary>
    public string? ModulePath { get; set; }

    public bool EngineOnly { get; private set; }
    public string? Url { get; private set; }
    public string? GrpcUrl { get; private set; }
    public string? Collection { get; private set; }
    public string? ConnectionString { get; private set; }
    public string? Table { get; private set; }
    public string? Stage { get; private set; }
    public int SearchQueries { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value.");
                return args[++i];
            }
            switch (name)
            {
                case "--points": o.Points = long.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--dims": o.Dims = Value().Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--tables": o.Tables = Value().Split(','); break;
                case "--cases": o.Cases = Value().Split(','); break;
                case "--lanes": o.Lanes = Value().Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--source-table": o.SourceTable = Value(); break;
                case "--repeat": o.Repeat = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--page-size": o.PageSize = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--prefetch": o.Prefetch = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--batch-size": o.BatchSize = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--distinct-vectors": o.Distinct = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--skip-pwsh": o.SkipPwsh = true; break;
                case "--connection-extra": o.ConnectionExtra = Value(); break;
                case "--module": o.Module = Value(); break;
                case "--engine-only": o.EngineOnly = true; break;
                case "--url": o.Url = Value(); break;
                case "--grpc-url": o.GrpcUrl = Value(); break;
                case "--collection": o.Collection = Value(); break;
                case "--connection-string": o.ConnectionString = Value(); break;
                case "--table": o.Table = Value(); break;
                case "--stage": o.Stage = Value(); break;
                case "--search-queries": o.SearchQueries = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--help" or "-h": Console.WriteLine(Usage); Environment.Exit(0); break;
                default: throw new ArgumentException($"Unknown option '{name}'.\n\n{Usage}");
            }
        }
        if (o.Points < 1 || o.Dims.Length == 0 || o.Repeat < 1 || o.Distinct < 1 || o.Lanes.Any(l => l is < 1 or > 64)) throw new ArgumentException("Counts must be positive.");
        foreach (var t in o.Tables)
        {
            if (t is not ("logged" or "unlogged")) throw new ArgumentException($"A table is logged or unlogged, not '{t}'.");
        }
        foreach (var c in o.Cases)
        {
            if (c is not ("a" or "a2" or "al" or "p" or "b" or "g" or "c" or "cg" or "cv" or "v" or "m")) throw new ArgumentException($"A case is a, a2, al, p, b, g, c, cg, cv, v or m, not '{c}'.");
        }
        return o;
    }
}
