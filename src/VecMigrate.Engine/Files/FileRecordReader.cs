using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Parquet;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>
/// Reads a file that VecMigrate wrote (Parquet, JSONL, JSONL.gz), streaming: a Parquet row group or a JSONL line at a
/// time. A record's <see cref="VectorRecord.Position"/> is its row number (from 0), so a read can start after any
/// record. A file cut short, or one VecMigrate did not write, is refused with <c>FileTruncated</c>,
/// <c>FileNotVecMigrate</c> or <c>FileUnreadable</c>, naming the file and the row.
/// </summary>
public sealed class FileRecordReader
{
    private FileRecordReader(string path, FileFormat format, FileLayout layout, long? records, int rowGroups, long bytes)
    {
        Path = path;
        Format = format;
        Layout = layout;
        Records = records;
        RowGroups = rowGroups;
        Bytes = bytes;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    public FileFormat Format { get; }

    public FileLayout Layout { get; }

    /// <summary>The number of records, where the file says it up front (Parquet); null for JSONL.</summary>
    public long? Records { get; }

    /// <summary>Parquet row groups; 0 for JSONL.</summary>
    public int RowGroups { get; }

    public long Bytes { get; }

    /// <summary>Opens <paramref name="path"/> and reads its layout (a Parquet footer, or a JSONL header line).</summary>
    public static async Task<FileRecordReader> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = System.IO.Path.GetFullPath(path);
        var format = FileFormats.FromPath(full);
        if (!File.Exists(full))
        {
            throw new VecMigrateException(FailureKind.NotFound, "FileNotFound", $"There is no file {full}.", full);
        }
        var bytes = new FileInfo(full).Length;
        if (format == FileFormat.Parquet)
        {
            var stream = OpenRead(full);
            await using (stream.ConfigureAwait(false))
            {
                var reader = await OpenParquetAsync(stream, full, cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    var layout = LayoutOf(reader, full);
                    return new FileRecordReader(full, format, layout, reader.Metadata?.NumRows ?? 0, reader.RowGroupCount, bytes);
                }
            }
        }
        await using var lines = new LineReader(full, format);
        var header = await lines.NextAsync(cancellationToken).ConfigureAwait(false)
            ?? throw Unreadable("FileTruncated", full, "it is empty: a VecMigrate JSONL file starts with a header line");
        return new FileRecordReader(full, format, ParseHeader(header, full), null, 0, bytes);
    }

    /// <summary>
    /// Reads the records after row <paramref name="startAfter"/> (a <see cref="VectorRecord.Position"/>; null: from the
    /// first), each stamped with the file's schema, an origin naming the file, and its row number as position.
    /// </summary>
    public IAsyncEnumerable<VectorRecord> ReadAsync(string? startAfter = null, CancellationToken cancellationToken = default) =>
        ReadAfterAsync(startAfter, cancellationToken);

    // An iterator, so that a bad position is thrown where the records are read (on the reading task), not here.
    private async IAsyncEnumerable<VectorRecord> ReadAfterAsync(string? startAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long first = 0;
        if (startAfter is not null)
        {
            if (!long.TryParse(startAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "FilePositionInvalid",
                    $"'{startAfter}' is not a row number of {Path} to start after.", Path);
            }
            first = after + 1;
        }
        var records = Format == FileFormat.Parquet ? ReadParquetAsync(first, cancellationToken) : ReadJsonlAsync(first, cancellationToken);
        await foreach (var r in records.ConfigureAwait(false)) yield return r;
    }

    private RecordOrigin Origin() => new(Layout.Origin?.Source ?? Layout.Schema?.Source ?? SourceKind.Objects, Path,
        Layout.Origin?.Container ?? Layout.Schema?.Name ?? System.IO.Path.GetFileName(Path));

    private async IAsyncEnumerable<VectorRecord> ReadParquetAsync(long first, [EnumeratorCancellation] CancellationToken ct)
    {
        var origin = Origin();
        var schema = Layout.Schema;
        var stream = OpenRead(Path);
        await using (stream.ConfigureAwait(false))
        {
            var reader = await OpenParquetAsync(stream, Path, ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var layout = LayoutOf(reader, Path);
                long start = 0;
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    var rows = reader.RowGroups[g].RowCount;
                    if (start + rows <= first)
                    {
                        start += rows;
                        continue;
                    }
                    List<VectorRecord> records;
                    var groupStart = start;
                    try
                    {
                        records = await ParquetRecords.ReadRowGroupAsync(reader, g, layout,
                            (row, r) => Stamp(r, groupStart + row, schema, origin), (int)Math.Max(0, first - start), ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is FormatException or IOException or InvalidDataException or ParquetException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
                    {
                        throw Unreadable("FileUnreadable", Path, $"row group {g} (rows {start} to {start + rows - 1}) cannot be read: {ex.Message}", ex);
                    }
                    foreach (var r in records) yield return r;
                    start += rows;
                }
            }
        }
    }

    private async IAsyncEnumerable<VectorRecord> ReadJsonlAsync(long first, [EnumeratorCancellation] CancellationToken ct)
    {
        var origin = Origin();
        var schema = Layout.Schema;
        await using var lines = new LineReader(Path, Format);
        var header = await lines.NextAsync(ct).ConfigureAwait(false) ?? throw Unreadable("FileTruncated", Path, "it is empty");
        var layout = ParseHeader(header, Path);
        long row = 0;
        while (true)
        {
            var line = await lines.NextAsync(ct).ConfigureAwait(false);
            if (line is null)
            {
                throw Unreadable("FileTruncated", Path,
                    $"it ends after row {row - 1} (line {lines.LineNumber}) without its end line: the file was cut short, or its writer stopped before it finished");
            }
            JsonlRecords.LineKind kind;
            VectorRecord? record;
            long count;
            try
            {
                kind = JsonlRecords.ParseLine(line.Value.Span, layout, out record, out count);
            }
            catch (FormatException ex)
            {
                throw Unreadable(lines.Truncated ? "FileTruncated" : "FileUnreadable", Path,
                    $"row {row} (line {lines.LineNumber}) cannot be read{(lines.Truncated ? ", it has no newline: the file was cut short" : "")}: {ex.Message}", ex);
            }
            if (kind == JsonlRecords.LineKind.End)
            {
                if (count != row) throw Unreadable("FileUnreadable", Path, $"its end line (line {lines.LineNumber}) counts {count} records, but {row} came before it");
                if (await lines.NextAsync(ct).ConfigureAwait(false) is not null) throw Unreadable("FileUnreadable", Path, $"it goes on after its end line (line {lines.LineNumber})");
                yield break;
            }
            if (lines.Truncated) throw Unreadable("FileTruncated", Path, $"row {row} (line {lines.LineNumber}) has no newline: the file was cut short");
            if (row >= first) yield return Stamp(record!, row, schema, origin);
            row++;
        }
    }

    private static VectorRecord Stamp(VectorRecord r, long row, SourceSchema? schema, RecordOrigin origin) =>
        new(r.Id, r.Vectors, r.Payload)
        {
            Namespace = r.Namespace,
            Schema = schema,
            Origin = origin,
            Position = row.ToString(CultureInfo.InvariantCulture),
        };

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);

    private static async Task<ParquetReader> OpenParquetAsync(Stream stream, string path, CancellationToken ct)
    {
        try
        {
            return await ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ParquetException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            throw Unreadable("FileTruncated", path,
                $"it is not a complete Parquet file ({ex.Message}): a file cut short has no footer, so none of its rows can be trusted", ex);
        }
    }

    private static FileLayout LayoutOf(ParquetReader reader, string path)
    {
        if (!reader.CustomMetadata.TryGetValue(FileLayout.MetadataKey, out var json))
        {
            throw Unreadable("FileNotVecMigrate", path, $"it is a Parquet file that VecMigrate did not write (its metadata has no '{FileLayout.MetadataKey}' key)");
        }
        try
        {
            return FileLayout.Parse(json);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw Unreadable("FileNotVecMigrate", path, $"its '{FileLayout.MetadataKey}' metadata cannot be read: {ex.Message}", ex);
        }
    }

    private static FileLayout ParseHeader(ReadOnlyMemory<byte> line, string path)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            return FileLayout.Parse(doc.RootElement);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw Unreadable("FileNotVecMigrate", path, $"its first line is not a VecMigrate header ({ex.Message})", ex);
        }
    }

    private static VecMigrateException Unreadable(string id, string path, string why, Exception? inner = null) =>
        new(FailureKind.InvalidArgument, id, $"{path} cannot be imported: {why}.", path, inner);

    /// <summary>Lines of a JSONL file (gzip or not), as byte slices valid until the next call.</summary>
    private sealed class LineReader : IAsyncDisposable
    {
        private readonly FileStream _file;
        private readonly Stream _stream;
        private readonly string _path;
        private byte[] _buffer = new byte[1 << 16];
        private int _start;
        private int _end;
        private bool _eof;

        public LineReader(string path, FileFormat format)
        {
            _path = path;
            _file = OpenRead(path);
            _stream = format == FileFormat.JsonlGzip ? new GZipStream(_file, CompressionMode.Decompress) : _file;
        }

        /// <summary>Lines read so far (the last one's number, from 1).</summary>
        public long LineNumber { get; private set; }

        /// <summary>The last line ended at the end of the file, without a newline.</summary>
        public bool Truncated { get; private set; }

        public async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken ct)
        {
            var scanned = _start;
            while (true)
            {
                var at = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
                if (at >= 0)
                {
                    var line = _buffer.AsMemory(_start, at - _start);
                    _start = at + 1;
                    LineNumber++;
                    return line;
                }
                scanned = _end;
                if (_eof)
                {
                    if (_start == _end) return null;
                    var rest = _buffer.AsMemory(_start, _end - _start);
                    _start = _end;
                    LineNumber++;
                    Truncated = true;
                    return rest;
                }
                if (_start > 0)
                {
                    Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                    scanned -= _start;
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                int read;
                try
                {
                    read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
                }
                catch (InvalidDataException ex)
                {
                    throw Unreadable("FileTruncated", _path, $"its gzip data is damaged or cut short after line {LineNumber} ({ex.Message})", ex);
                }
                if (read == 0) _eof = true;
                _end += read;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }
}
