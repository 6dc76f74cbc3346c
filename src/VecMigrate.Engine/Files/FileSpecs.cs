using Microsoft.Extensions.Logging;
using VecMigrate.Engine.Http;
using VecMigrate.Engine.Pipeline;

namespace VecMigrate.Engine.Files;

/// <summary>A VecMigrate file (Parquet, JSONL, JSONL.gz) to read, in row order; opened when the copy runs.</summary>
public sealed class FileSourceSpec : MigrationSourceSpec
{
    /// <param name="path">The file; its extension tells the format.</param>
    public FileSourceSpec(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = global::System.IO.Path.GetFullPath(path);
        Format = FileFormats.FromPath(Path);
    }

    public override string System => "File";

    public string Path { get; }

    public FileFormat Format { get; }

    public override string Description => $"File {Path}";

    public override MigrationSource Open(RestTransport transport, ILoggerFactory loggers) => Source(Path);

    /// <summary>
    /// The file as a migration source: rows after a position (a row number). The description holds the path and
    /// the file's length, so that a checkpoint taken on one file is refused for another put in its place.
    /// Parquet and uncompressed JSONL files split into parts for parallel lanes (<see cref="FileRecordReader.SplitAsync"/>:
    /// row groups, or byte ranges cut at line starts), each read on its own without reading what comes before it;
    /// a JSONL.gz file does not (its records are read in one lane and written in several).
    /// </summary>
    public static MigrationSource Source(string path)
    {
        var full = global::System.IO.Path.GetFullPath(path);
        var length = File.Exists(full) ? new FileInfo(full).Length : 0;
        var description = $"File {full} ({length} bytes)";
        if (FileFormats.FromPath(full) == FileFormat.JsonlGzip)
        {
            return new MigrationSource(description, after => ReadAfter(full, after))
            {
                CannotSplitBecause = "a gzip stream can only be read from its start, so no part of it can be read alone",
            };
        }
        return new MigrationSource(description, after => ReadAfter(full, after))
        {
            Split = async (n, ct) => await (await FileRecordReader.OpenAsync(full, ct).ConfigureAwait(false)).SplitAsync(n, ct).ConfigureAwait(false),
            Narrow = bounds => new MigrationSource($"{description}, {FilePart.Parse(bounds).Describe()}", after => ReadPart(full, bounds, after)),
        };
    }

    private static async IAsyncEnumerable<Records.VectorRecord> ReadAfter(string path, string? after,
        [global::System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = await FileRecordReader.OpenAsync(path, ct).ConfigureAwait(false);
        await foreach (var r in reader.ReadAsync(after, ct).ConfigureAwait(false)) yield return r;
    }

    private static async IAsyncEnumerable<Records.VectorRecord> ReadPart(string path, string bounds, string? after,
        [global::System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = await FileRecordReader.OpenAsync(path, ct).ConfigureAwait(false);
        await foreach (var r in reader.ReadPartAsync(bounds, after, ct).ConfigureAwait(false)) yield return r;
    }
}

/// <summary>
/// A file to export into (Parquet, JSONL or JSONL.gz by its extension), written to a partial file beside it and
/// renamed when complete. Its checkpoint is kept beside the partial file, so a resumed copy continues the same file.
/// </summary>
public sealed class FileTargetSpec : MigrationTargetSpec
{
    /// <param name="path">The file; its extension tells the format.</param>
    public FileTargetSpec(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = global::System.IO.Path.GetFullPath(path);
        Format = FileFormats.FromPath(Path);
    }

    /// <summary>The file, read back.</summary>
    public override MigrationSourceSpec AsSource() => new FileSourceSpec(Path);

    public override string System => "File";

    public string Path { get; }

    public FileFormat Format { get; }

    /// <summary>Replace the file if it exists (only once the new one is complete).</summary>
    public bool Overwrite { get; init; }

    public int BatchSize { get; init; } = FileSinkOptions.DefaultBatchSize;

    public override bool Destructive => Overwrite && File.Exists(Path);

    public override string Description => $"File {Path}";

    public override IRecordSink Open(RestTransport transport, ILoggerFactory loggers) =>
        new FileSink(new FileSinkOptions(Path) { Overwrite = Overwrite, BatchSize = BatchSize });
}
