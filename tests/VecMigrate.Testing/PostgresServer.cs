using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace VecMigrate.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster with the real pgvector extension, on a free loopback port, made by
/// initdb in a temporary folder and removed on dispose. Runs the server as the 'postgres' user when
/// the process is root (initdb refuses root). Needs PostgreSQL's server binaries and pgvector
/// installed (.ci/install-deps does both).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable, IDisposable
{
    private readonly string _dataDir;
    private readonly string _binDir;
    private readonly bool _asPostgresUser;
    private bool _stopped;

    private PostgresServer(string binDir, string dataDir, int port, bool asPostgresUser)
    {
        _binDir = binDir;
        _dataDir = dataDir;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>A connection string for the superuser to the 'postgres' database.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>
    /// A connection string for <paramref name="database"/>. Not pooled: every test makes its own
    /// database, and a pool per database would keep idle connections until the server has no more.
    /// </summary>
    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling={(database == "postgres" ? "true" : "false")};Include Error Detail=true";

    /// <summary>Finds the newest installed PostgreSQL server binaries, or null.</summary>
    public static string? FindBinDir()
    {
        var env = Environment.GetEnvironmentVariable("VECMIGRATE_PG_BIN");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "initdb"))) return env;
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => (dir: Path.Combine(d, "bin"), ver: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.dir, "initdb")))
            .OrderByDescending(x => x.ver)
            .Select(x => x.dir)
            .FirstOrDefault();
    }

    /// <summary>Starts a new cluster. <paramref name="extraSettings"/> are passed as -c name=value.</summary>
    public static async Task<PostgresServer> StartAsync(IReadOnlyDictionary<string, string>? extraSettings = null)
    {
        var bin = FindBinDir() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin; run .ci/install-deps.");
        var asPostgres = Environment.UserName == "root";
        var dataDir = Path.Combine(Path.GetTempPath(), "vecmigrate-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDir);
        if (asPostgres) await RunAsync("chown", ["postgres:postgres", dataDir], asUser: false);

        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], asPostgres);

        var port = FreePort();
        // Every test makes its own database, and Npgsql keeps idle pooled connections to each for minutes:
        // 50 connections ran out once the suite grew ("53300: sorry, too many clients already").
        var opts = new List<string>
        {
            $"-p {port}", "-c listen_addresses=127.0.0.1", $"-c unix_socket_directories={dataDir}",
            "-c max_connections=300", "-c shared_buffers=256MB", "-c max_wal_size=4GB",
        };
        if (extraSettings != null) opts.AddRange(extraSettings.Select(kv => $"-c {kv.Key}={kv.Value}"));
        var server = new PostgresServer(bin, dataDir, port, asPostgres);
        await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["-D", dataDir, "-l", Path.Combine(dataDir, "server.log"), "-o", string.Join(' ', opts), "-w", "-t", "60", "start"], asPostgres);
        await server.WaitReadyAsync();
        return server;
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var c = new NpgsqlConnection(ConnectionString + ";Pooling=false");
                await c.OpenAsync();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Creates a fresh database with the vector extension and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null, bool withVector = true)
    {
        name ??= "db_" + Guid.NewGuid().ToString("N")[..10];
        await using (var c = new NpgsqlConnection(ConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = ConnectionStringFor(name);
        if (withVector)
        {
            await using var c = new NpgsqlConnection(cs);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", c);
            await cmd.ExecuteNonQueryAsync();
        }
        return cs;
    }

    /// <summary>
    /// Makes <paramref name="role"/> (created here, with login and <paramref name="privileges"/>) authenticate with its
    /// password over TCP (scram-sha-256), ahead of the trust everyone else has: a line put first in pg_hba.conf, and a
    /// reload. Its password is null until set (ALTER ROLE ... PASSWORD), so until then it cannot log in at all.
    /// </summary>
    public async Task CreatePasswordRoleAsync(string role, string privileges = "SUPERUSER")
    {
        await using (var c = new NpgsqlConnection(ConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE ROLE \"{role}\" LOGIN {privileges}", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var hba = Path.Combine(_dataDir, "pg_hba.conf");
        // Rewritten in place, so the file keeps its owner (the postgres user, when the tests run as root).
        var text = await File.ReadAllTextAsync(hba);
        await File.WriteAllTextAsync(hba, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + text);
        await using (var c = new NpgsqlConnection(ConnectionString))
        {
            await c.OpenAsync();
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", c);
            await reload.ExecuteNonQueryAsync();
            await using var errors = new NpgsqlCommand("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL", c);
            if ((long)(await errors.ExecuteScalarAsync())! > 0) throw new InvalidOperationException("pg_hba.conf has errors after adding a line.");
        }
        await Task.Delay(200); // the postmaster rereads the file on the signal
    }

    /// <summary>Stops the server immediately (as a crash would) and starts it again on the same port.</summary>
    public async Task RestartAsync(bool immediate = true)
    {
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", _dataDir, "-m", immediate ? "immediate" : "fast", "-w", "restart"], _asPostgresUser);
        await WaitReadyAsync();
        // Idle pooled connections died with the old server; Npgsql would hand them out and fail on first use.
        NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", _dataDir, "-m", "immediate", "-w", "stop"], _asPostgresUser);
        }
        catch (Exception)
        {
            // Best effort: the folder goes either way.
        }
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asUser)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser)
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        else
        {
            psi.FileName = file;
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
