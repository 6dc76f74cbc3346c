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
        var first = FirstRow(startAfter);
        var records = Format == FileFormat.Parquet ? ReadParquetAsync(first, 0, int.MaxValue, cancellationToken) : ReadJsonlAsync(first, cancellationToken);
        await foreach (var r in records.ConfigureAwait(false)) yield return r;
    }

    /// <summary>The row to read from after the row-number position <paramref name="startAfter"/> (null: the first row).</summary>
    private long FirstRow(string? startAfter)
    {
        if (startAfter is null) return 0;
        if (!long.TryParse(startAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "FilePositionInvalid",
                $"'{startAfter}' is not a row number of {Path} to start after.", Path);
        }
        return after + 1;
    }

    /// <summary>
    /// Splits the file into <paramref name="count"/> parts that together hold every record once (<see cref="FilePart"/>,
    /// as text for <see cref="ReadPartAsync"/>): a Parquet file by row groups, balanced by their row counts from the
    /// footer (a row group is never cut, so a file of fewer row groups than parts leaves the rest empty); an
    /// uncompressed JSONL file by bytes, each cut moved forward to the next line start (reading only from the cut to
    /// that line's end). A JSONL.gz file cannot be split: a gzip stream is read from its start.
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var parts = new List<string>(count);
        if (Format == FileFormat.Parquet)
        {
            var stream = OpenRead(Path);
            await using (stream.ConfigureAwait(false))
            {
                var reader = await OpenParquetAsync(stream, Path, cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    var rows = Enumerable.Range(0, reader.RowGroupCount).Select(g => reader.RowGroups[g].RowCount).ToArray();
                    var total = rows.Sum();
                    long before = 0;
                    var group = 0;
                    var first = 0;
                    for (var k = 1; k <= count; k++)
                    {
                        // Part k ends at the first row group that starts at or past its share of the rows (the last: the end).
                        var share = k == count ? long.MaxValue : (long)Math.Ceiling(total * (double)k / count);
                        while (group < rows.Length && before < share)
                        {
                            before += rows[group];
                            group++;
                        }
                        parts.Add(new FilePart(FilePart.Unit.RowGroups, first, group).ToString());
                        first = group;
                    }
                }
            }
            return parts;
        }
        if (Format != FileFormat.Jsonl)
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "MigrationSourceCannotSplit",
                $"{Path} cannot be split into parts: a gzip stream can only be read from its start.", Path);
        }
        long headerEnd;
        await using (var head = new LineReader(Path, Format))
        {
            _ = await head.NextAsync(cancellationToken).ConfigureAwait(false);
            headerEnd = head.Offset;
        }
        var file = OpenRead(Path);
        await using (file.ConfigureAwait(false))
        {
            var size = file.Length;
            var start = headerEnd;
            for (var k = 1; k <= count; k++)
            {
                var end = k == count ? size : await LineStartFromAsync(file, headerEnd + (size - headerEnd) * k / count, cancellationToken).ConfigureAwait(false);
                end = Math.Max(end, start);
                parts.Add(new FilePart(FilePart.Unit.Bytes, start, end).ToString());
                start = end;
            }
        }
        return parts;
    }

    /// <summary>The first line start at or after <paramref name="at"/> (the file's length when no line starts there).</summary>
    private static async Task<long> LineStartFromAsync(FileStream file, long at, CancellationToken ct)
    {
        if (at <= 0) return 0;
        if (at >= file.Length) return file.Length;
        file.Position = at - 1; // a line starts at 'at' when the byte before it ends a line
        var buffer = new byte[1 << 14];
        var offset = at - 1;
        while (true)
        {
            var read = await file.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (read == 0) return file.Length;
            var newline = Array.IndexOf(buffer, (byte)'\n', 0, read);
            if (newline >= 0) return offset + newline + 1;
            offset += read;
        }
    }

    /// <summary>
    /// Reads the records of one part (<see cref="SplitAsync"/>) after <paramref name="startAfter"/> (a position this
    /// part gave; null: from its start). Parquet records keep their row numbers as positions; a JSONL part's records
    /// are positioned by where their lines start (<c>@1234</c>: the line at byte 1234), since the rows before the part
    /// are never read to count them, and a resumed part seeks to that line.
    /// </summary>
    public IAsyncEnumerable<VectorRecord> ReadPartAsync(string bounds, string? startAfter = null, CancellationToken cancellationToken = default)
    {
        var part = FilePart.Parse(bounds);
        return (part.Kind, Format) switch
        {
            (FilePart.Unit.RowGroups, FileFormat.Parquet) => ReadParquetPartAsync(part, startAfter, cancellationToken),
            (FilePart.Unit.Bytes, FileFormat.Jsonl) => ReadJsonlPartAsync(part, startAfter, cancellationToken),
            _ => throw new VecMigrateException(FailureKind.InvalidArgument, "PartitionBoundsInvalid",
                $"'{bounds}' is not a part of {Path} ({Format}).", Path),
        };
    }

    private async IAsyncEnumerable<VectorRecord> ReadParquetPartAsync(FilePart part, string? startAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        var first = FirstRow(startAfter);
        if (part.IsEmpty) yield break;
        if (part.End > RowGroups)
        {
            throw Unreadable("FileUnreadable", Path, $"it has {RowGroups} row groups, not the {part.End} its split was made for: the file changed since");
        }
        await foreach (var r in ReadParquetAsync(first, (int)part.First, (int)part.End, ct).ConfigureAwait(false)) yield return r;
    }

    private RecordOrigin Origin() => new(Layout.Origin?.Source ?? Layout.Schema?.Source ?? SourceKind.Objects, Path,
        Layout.Origin?.Container ?? Layout.Schema?.Name ?? System.IO.Path.GetFileName(Path));

    /// <summary>The rows from <paramref name="first"/> on of row groups [<paramref name="fromGroup"/>, <paramref name="toGroup"/>).</summary>
    private async IAsyncEnumerable<VectorRecord> ReadParquetAsync(long first, int fromGroup, int toGroup, [EnumeratorCancellation] CancellationToken ct)
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
                for (var g = 0; g < fromGroup && g < reader.RowGroupCount; g++) start += reader.RowGroups[g].RowCount; // from the footer: no data read
                for (var g = fromGroup; g < Math.Min(toGroup, reader.RowGroupCount); g++)
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
            var where = $"row {row} (line {lines.LineNumber})";
            if (ParseLine(lines, line.Value, layout, where, out var record) is { } count)
            {
                await EndAsync(lines, count, row, $"line {lines.LineNumber}", ct).ConfigureAwait(false);
                yield break;
            }
            if (row >= first) yield return Stamp(record!, row, schema, origin);
            row++;
        }
    }

    /// <summary>
    /// The records whose lines start in the part's bytes, after the line at <paramref name="startAfter"/> (<c>@offset</c>)
    /// when given: the file is opened at the part's first line (or the one after <paramref name="startAfter"/>), never
    /// read from its start but for the header line, which every part needs for the layout.
    /// </summary>
    private async IAsyncEnumerable<VectorRecord> ReadJsonlPartAsync(FilePart part, string? startAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        var origin = Origin();
        var schema = Layout.Schema;
        FileLayout layout;
        long headerEnd;
        await using (var head = new LineReader(Path, Format))
        {
            var header = await head.NextAsync(ct).ConfigureAwait(false) ?? throw Unreadable("FileTruncated", Path, "it is empty");
            layout = ParseHeader(header, Path);
            headerEnd = head.Offset;
        }
        var at = part.First;
        var skipFirst = false;
        if (startAfter is not null)
        {
            if (!startAfter.StartsWith('@') || !long.TryParse(startAfter.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var after)
                || after < part.First || after >= part.End)
            {
                throw new VecMigrateException(FailureKind.InvalidArgument, "FilePositionInvalid",
                    $"'{startAfter}' is not the position of a line of {Path} in {part.Describe()} to start after.", Path);
            }
            at = after;
            skipFirst = true; // that record is in the target: read on from the line after it
        }
        if (part.IsEmpty) yield break;
        if (at < headerEnd)
        {
            throw Unreadable("FileUnreadable", Path, $"its header ends at byte {headerEnd}, after the start of {part.Describe()}: the file changed since it was split");
        }
        // Every part starts at a line start: the byte before it is the newline of the line before.
        await using var lines = new LineReader(Path, Format, at - 1);
        var before = await lines.NextAsync(ct).ConfigureAwait(false);
        if (before is not { Length: 0 } || lines.Truncated)
        {
            throw Unreadable("FileUnreadable", Path, $"no line starts at byte {at}: the file changed since it was split, or the position is not one of this file's");
        }
        // The end line's count can be checked only by a read that counted every record from the first.
        var counted = startAfter is null && part.First == headerEnd;
        long rows = 0;
        while (true)
        {
            var line = await lines.NextAsync(ct).ConfigureAwait(false);
            if (line is null)
            {
                throw Unreadable("FileTruncated", Path,
                    $"it ends at byte {lines.Offset} without its end line: the file was cut short, or its writer stopped before it finished");
            }
            var start = lines.LineStart;
            if (start >= part.End) yield break; // the next part's
            if (skipFirst)
            {
                skipFirst = false;
                continue;
            }
            if (ParseLine(lines, line.Value, layout, $"the line at byte {start}", out var record) is { } count)
            {
                await EndAsync(lines, count, counted ? rows : null, $"at byte {start}", ct).ConfigureAwait(false);
                yield break;
            }
            rows++;
            yield return Stamp(record!, "@" + start.ToString(CultureInfo.InvariantCulture), schema, origin);
        }
    }

    private static VectorRecord Stamp(VectorRecord r, long row, SourceSchema? schema, RecordOrigin origin) =>
        Stamp(r, row.ToString(CultureInfo.InvariantCulture), schema, origin);

    private static VectorRecord Stamp(VectorRecord r, string position, SourceSchema? schema, RecordOrigin origin) =>
        new(r.Id, r.Vectors, r.Payload)
        {
            Namespace = r.Namespace,
            Schema = schema,
            Origin = origin,
            Position = position,
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

    /// <summary>
    /// Reads one JSONL line (<paramref name="where"/> names it in errors): a record (null returned, the record out), or
    /// the end line (its record count returned). A line that cannot be read, or a record line without its newline, is
    /// refused naming the file and the line.
    /// </summary>
    private long? ParseLine(LineReader lines, ReadOnlyMemory<byte> line, FileLayout layout, string where, out VectorRecord? record)
    {
        JsonlRecords.LineKind kind;
        long count;
        try
        {
            kind = JsonlRecords.ParseLine(line.Span, layout, out record, out count);
        }
        catch (FormatException ex)
        {
            throw Unreadable(lines.Truncated ? "FileTruncated" : "FileUnreadable", Path,
                $"{where} cannot be read{(lines.Truncated ? ", it has no newline: the file was cut short" : "")}: {ex.Message}", ex);
        }
        if (kind == JsonlRecords.LineKind.End) return count;
        if (lines.Truncated) throw Unreadable("FileTruncated", Path, $"{where} has no newline: the file was cut short");
        return null;
    }

    /// <summary>The end line: its count agrees with the records read before it (when they were all read), and nothing follows it.</summary>
    private async Task EndAsync(LineReader lines, long count, long? read, string where, CancellationToken ct)
    {
        if (read is { } n && count != n) throw Unreadable("FileUnreadable", Path, $"its end line ({where}) counts {count} records, but {n} came before it");
        if (await lines.NextAsync(ct).ConfigureAwait(false) is not null) throw Unreadable("FileUnreadable", Path, $"it goes on after its end line ({where})");
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
        private long _base; // the file offset of _buffer[0] (uncompressed files)
        private int _start;
        private int _end;
        private bool _eof;

        /// <param name="path">The file.</param>
        /// <param name="format">JSONL or JSONL.gz.</param>
        /// <param name="offset">Where to start reading: a byte offset of an uncompressed file (0 for a gzip one).</param>
        public LineReader(string path, FileFormat format, long offset = 0)
        {
            _path = path;
            _file = OpenRead(path);
            if (offset != 0)
            {
                if (format == FileFormat.JsonlGzip) throw new ArgumentOutOfRangeException(nameof(offset), "A gzip stream is read from its start.");
                _file.Position = offset;
                _base = offset;
            }
            _stream = format == FileFormat.JsonlGzip ? new GZipStream(_file, CompressionMode.Decompress) : _file;
        }

        /// <summary>Where the last line returned starts in the file (uncompressed files).</summary>
        public long LineStart { get; private set; }

        /// <summary>Where the next line starts in the file (uncompressed files): the offset just past the last line's newline.</summary>
        public long Offset => _base + _start;

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
                    LineStart = _base + _start;
                    _start = at + 1;
                    LineNumber++;
                    return line;
                }
                scanned = _end;
                if (_eof)
                {
                    if (_start == _end) return null;
                    var rest = _buffer.AsMemory(_start, _end - _start);
                    LineStart = _base + _start;
                    _start = _end;
                    LineNumber++;
                    Truncated = true;
                    return rest;
                }
                if (_start > 0)
                {
                    _base += _start;
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
