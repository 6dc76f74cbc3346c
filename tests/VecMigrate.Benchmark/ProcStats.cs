using System.Globalization;

namespace VecMigrate.Benchmark;

/// <summary>What Linux's /proc says about memory and CPU time.</summary>
internal static class ProcStats
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>Peak resident memory (VmHWM) of this process, in bytes.</summary>
    public static long PeakRss() => StatusKb("/proc/self/status", "VmHWM:") * 1024;

    /// <summary>Resident memory (VmRSS) now, in bytes.</summary>
    public static long Rss() => StatusKb("/proc/self/status", "VmRSS:") * 1024;

    private static long StatusKb(string path, string key)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>
    /// CPU seconds (user + system) used so far by a process and all its children, living or reaped: its own time,
    /// its reaped children's (cutime, cstime) and that of the children still running.
    /// </summary>
    public static double TreeCpuSeconds(int pid)
    {
        var total = 0.0;
        if (Read(pid) is { } self) total += self.Utime + self.Stime + self.Cutime + self.Cstime;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child) || child == pid) continue;
            if (Read(child) is { } s && s.Ppid == pid) total += s.Utime + s.Stime;
        }
        return total / TicksPerSecond;
    }

    /// <summary>CPU seconds of this process's children that have ended and been waited for.</summary>
    public static double EndedChildrenCpuSeconds() => Read(Environment.ProcessId) is { } s ? (s.Cutime + s.Cstime) / TicksPerSecond : 0;

    /// <summary>
    /// Waits until the postmaster <paramref name="postmaster"/> has no client backends left (their titles hold the
    /// client's address), so that the CPU time of a backend that just ended has been added to the postmaster's.
    /// </summary>
    public static async Task WaitForNoClientBackendsAsync(int postmaster, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var any = false;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || Read(pid) is not { } s || s.Ppid != postmaster) continue;
                if (s.State == 'Z')
                {
                    any = true; // ended but not yet reaped: its time is not counted yet
                    break;
                }
                string title;
                try
                {
                    title = File.ReadAllText($"/proc/{pid}/cmdline");
                }
                catch (IOException)
                {
                    continue;
                }
                if (title.Contains("127.0.0.1(", StringComparison.Ordinal))
                {
                    any = true;
                    break;
                }
            }
            if (!any) return;
            await Task.Delay(50);
        }
    }

    /// <summary>The parent of a process, or 0.</summary>
    public static int ParentOf(int pid) => Read(pid)?.Ppid ?? 0;

    private sealed record Stat(char State, int Ppid, long Utime, long Stime, long Cutime, long Cstime);

    private static Stat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return new Stat(f[0][0], int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[11], CultureInfo.InvariantCulture),
            long.Parse(f[12], CultureInfo.InvariantCulture), long.Parse(f[13], CultureInfo.InvariantCulture), long.Parse(f[14], CultureInfo.InvariantCulture));
    }

    /// <summary>The load average line of /proc/loadavg (1, 5, 15 minutes).</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
