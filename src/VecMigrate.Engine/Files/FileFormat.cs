namespace VecMigrate.Engine.Files;

/// <summary>The file formats records are exported to and imported from, chosen by the file's extension.</summary>
public enum FileFormat
{
    /// <summary>Apache Parquet (<c>.parquet</c>): one row per record, one column per vector space.</summary>
    Parquet = 1,
    /// <summary>JSON Lines (<c>.jsonl</c>): a header line, one record per line, an end line.</summary>
    Jsonl = 2,
    /// <summary>JSON Lines compressed with gzip (<c>.jsonl.gz</c>).</summary>
    JsonlGzip = 3,
}

/// <summary>Picks the <see cref="FileFormat"/> from a path's extension.</summary>
public static class FileFormats
{
    /// <summary>The format for <paramref name="path"/>; throws <c>FileFormatUnknown</c> for any other extension.</summary>
    public static FileFormat FromPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var name = Path.GetFileName(path);
        if (name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)) return FileFormat.Parquet;
        if (name.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase)) return FileFormat.JsonlGzip;
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return FileFormat.Jsonl;
        throw new VecMigrateException(FailureKind.InvalidArgument, "FileFormatUnknown",
            $"'{path}' does not end in .parquet, .jsonl or .jsonl.gz, which tell the format of a VecMigrate file.", path);
    }
}
