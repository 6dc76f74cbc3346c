using System.IO.Compression;
using System.Buffers;
using System.Text.Json;
using VecMigrate.Engine.Pipeline;
using VecMigrate.Engine.Records;

namespace VecMigrate.Engine.Files;

/// <summary>How a <see cref="FileSink"/> writes.</summary>
/// <param name="Path">The file to write; its extension picks the format (.parquet, .jsonl, .jsonl.gz).</param>
public sealed record FileSinkOptions(string Path)
{
    /// <summary>Records per batch: a Parquet row group, or a run of JSONL lines (a gzip member); each is a checkpoint.</summary>
    public const int DefaultBatchSize = 10_000;

    /// <summary>
    /// Vector values (floats and sparse indices) per batch at most: a batch is written once it holds this many, so
    /// that memory stays flat however wide the vectors are (2,000,000 values: 8 MB of floats, about 24 MB with
    /// Parquet's levels, whatever the dimension).
    /// </summary>
    public const int DefaultMaxBatchValues = 2_000_000;

    /// <summary>Replace the file when it exists (else an existing file is refused before anything is written).</summary>
    public bool Overwrite { get; init; }

    public int BatchSize { get; init; } = DefaultBatchSize;

    public int MaxBatchValues { get; init; } = DefaultMaxBatchValues;
}

/// <summary>
/// Writes records into a Parquet or JSONL file. Everything goes into a partial file beside the target (a hidden
/// <c>.name.…partial</c> in the same folder) that is renamed over the target only once complete, so the target never
/// holds half an export. Each batch is flushed to disk before it is acknowledged; with a checkpoint the partial file
/// survives a failure and <see cref="FileExportState"/> records how much of it is good, so a resumed export continues
/// where the checkpoint is and writes the same bytes an uninterrupted one would.
/// </summary>
public sealed class FileSink : IRecordSink
{
    private readonly FileSinkOptions _options;
    private readonly FileFormat _format;
    private readonly List<VectorRecord> _batch = [];
    private readonly ArrayBufferWriter<byte> _line = new(1 << 14);
    private readonly Utf8JsonWriter _json;
    private FileExportState? _state;
    private string? _checkpoint;
    private string? _source;
    private string? _partial;
    private FileStream? _out;
    private FileLayout? _layout;
    private long _batchValues;
    private long _records;
    private string? _position;
    private bool _completed;

    public FileSink(FileSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchValues, 1);
        _options = options;
        FullPath = System.IO.Path.GetFullPath(options.Path);
        _format = FileFormats.FromPath(FullPath);
        _json = new Utf8JsonWriter(_line);
    }

    /// <summary>The target file's full path.</summary>
    public string FullPath { get; }

    public string Target => $"File {FullPath}";

    /// <summary>Appending a batch twice would write it twice: a resume needs the checkpoint kept with the file.</summary>
    public bool Idempotent => false;

    public event Action<AcknowledgedBatch>? BatchAcknowledged;

    /// <summary>Records in the file (all runs of a resumed export).</summary>
    public long Records => _records;

    /// <summary>What the complete file holds; null until <see cref="CompleteAsync"/>.</summary>
    public VectorFileInfo? Info { get; private set; }

    /// <summary>Keeps the checkpoint beside the partial file, saved with each batch (see <see cref="FileExportState"/>).</summary>
    public ICheckpointStore? AttachCheckpoint(string name, string source, bool resume)
    {
        _checkpoint = name;
        _source = source;
        _state = new FileExportState(Beside($".{System.IO.Path.GetFileName(FullPath)}.{name}.checkpoint.json"));
        return _state;
    }

    private string Beside(string name) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(FullPath)!, name);

    public async ValueTask WriteAsync(VectorRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_out is null) await BeginAsync(record, cancellationToken).ConfigureAwait(false);
        if ((_layout!.Check(record) ?? FileLayout.PayloadProblem(record)) is { } problem) throw new RecordRejectedException("FileRecordInvalid", problem, record);
        _batch.Add(record);
        foreach (var v in record.Vectors.Values)
        {
            _batchValues += v switch
            {
                SparseVector s => 2L * s.Indices.Length,
                MultiVector m => (long)m.Vectors.Length * m.Length,
                _ => v.Length,
            };
        }
        if (_batch.Count >= _options.BatchSize || _batchValues >= _options.MaxBatchValues) await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the partial file: a new one, or, resuming a checkpoint, the one it covers, cut back to what it covers.</summary>
    private async Task BeginAsync(VectorRecord? first, CancellationToken ct)
    {
        var saved = _state is null ? null : await _state.GetAsync(_checkpoint!, ct).ConfigureAwait(false);
        var name = System.IO.Path.GetFileName(FullPath);
        _partial = Beside(_checkpoint is null ? $".{name}.{Guid.NewGuid():N}.partial" : $".{name}.{_checkpoint}.partial");
        try
        {
            if (saved is { Completed: false } && _state!.Bytes > 0 && _state.Layout is not null)
            {
                var length = File.Exists(_partial) ? new FileInfo(_partial).Length : -1;
                if (length < _state.Bytes)
                {
                    throw new VecMigrateException(FailureKind.InvalidArgument, "FilePartialMissing",
                        $"Checkpoint '{_checkpoint}' covers {_state.Bytes} bytes of {_partial}, but that file {(length < 0 ? "is gone" : $"has only {length}")}; remove {_state.StatePath} to export from the beginning.",
                        _partial);
                }
                _layout = FileLayout.Parse(_state.Layout);
                _records = saved.Records;
                _position = saved.Position;
                _out = new FileStream(_partial, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
                // What a killed run wrote past its last checkpoint goes. A Parquet batch is written over the footer
                // before it, so that footer is put back: the file is then again exactly what the checkpoint covers.
                var tail = _format == FileFormat.Parquet ? _state.Tail ?? throw new VecMigrateException(FailureKind.InvalidArgument, "CheckpointUnreadable",
                    $"Checkpoint {_state.StatePath} has no Parquet footer to resume {_partial} with; remove it to export from the beginning.", _state.StatePath) : [];
                _out.SetLength(_state.Bytes - tail.Length);
                _out.Position = _out.Length;
                await _out.WriteAsync(tail, ct).ConfigureAwait(false);
                _out.Flush(flushToDisk: true);
                return;
            }
            RefuseExisting();
            _layout = first is null ? FileLayout.Empty : FileLayout.For(first);
            if (_state is not null) _state.Layout = _layout.ToJson();
            _out = new FileStream(_partial, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "FileWriteFailed", $"Could not open {_partial} to write {FullPath}: {ex.Message}", FullPath, ex);
        }
    }

    private void RefuseExisting()
    {
        if (!_options.Overwrite && File.Exists(FullPath))
        {
            throw new VecMigrateException(FailureKind.InvalidArgument, "FileTargetExists",
                $"{FullPath} exists; use -Force to replace it (it is replaced only once the new file is complete). Nothing was written.", FullPath);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_batch.Count == 0) return;
        try
        {
            await WriteBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "FileWriteFailed", $"Could not write to {_partial} (for {FullPath}): {ex.Message}", FullPath, ex);
        }
        var count = _batch.Count;
        var last = _batch[^1].Position;
        _records += count;
        _position = last;
        _batch.Clear();
        _batchValues = 0;
        if (_state is not null)
        {
            _state.Bytes = _out!.Length;
            if (_format == FileFormat.Parquet) _state.Tail = await ReadTailAsync(_out, cancellationToken).ConfigureAwait(false);
            await _state.SaveAsync(new MigrationCheckpoint(_checkpoint!, _source!, Target, _position, _records, false, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
        }
        BatchAcknowledged?.Invoke(new AcknowledgedBatch(count, last));
    }

    /// <summary>A complete Parquet file's tail: its footer, the footer's length (4 bytes) and "PAR1".</summary>
    private static async Task<byte[]> ReadTailAsync(FileStream file, CancellationToken ct)
    {
        var end = new byte[8];
        file.Position = file.Length - 8;
        await file.ReadExactlyAsync(end, ct).ConfigureAwait(false);
        var footer = BitConverter.ToInt32(end, 0); // little-endian, as Parquet writes it
        var tail = new byte[footer + 8];
        file.Position = file.Length - tail.Length;
        await file.ReadExactlyAsync(tail, ct).ConfigureAwait(false);
        file.Position = file.Length;
        return tail;
    }

    private async Task WriteBatchAsync(CancellationToken ct)
    {
        var output = _out!;
        if (_format == FileFormat.Parquet)
        {
            await ParquetRecords.AppendRowGroupAsync(output, _layout!, _batch, ct).ConfigureAwait(false);
        }
        else
        {
            var header = output.Length == 0;
            await WriteLinesAsync(output, ct, header ? JsonlRecords.Header(_layout!) : null, _batch, null).ConfigureAwait(false);
        }
        output.Flush(flushToDisk: true);
    }

    // One gzip member per batch (gzip readers read concatenated members as one stream), so a resume appends after
    // the last whole member.
    private async Task WriteLinesAsync(FileStream output, CancellationToken ct, byte[]? header, IReadOnlyList<VectorRecord> records, byte[]? end)
    {
        output.Position = output.Length;
        Stream target = _format == FileFormat.JsonlGzip ? new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true) : output;
        try
        {
            if (header is not null) await target.WriteAsync(header, ct).ConfigureAwait(false);
            foreach (var r in records)
            {
                _line.ResetWrittenCount();
                JsonlRecords.WriteRecord(_line, _json, r);
                await target.WriteAsync(_line.WrittenMemory, ct).ConfigureAwait(false);
            }
            if (end is not null) await target.WriteAsync(end, ct).ConfigureAwait(false);
        }
        finally
        {
            if (!ReferenceEquals(target, output)) await target.DisposeAsync().ConfigureAwait(false);
        }
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Writes the last batch and the file's end, and renames the partial file over the target.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_out is null) await BeginAsync(null, cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var output = _out!;
        try
        {
            if (_format == FileFormat.Parquet)
            {
                if (output.Length == 0) await ParquetRecords.AppendRowGroupAsync(output, _layout!, [], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteLinesAsync(output, cancellationToken, output.Length == 0 ? JsonlRecords.Header(_layout!) : null, [], JsonlRecords.End(_records)).ConfigureAwait(false);
            }
            output.Flush(flushToDisk: true);
            var bytes = output.Length;
            await output.DisposeAsync().ConfigureAwait(false);
            RefuseExisting();
            File.Move(_partial!, FullPath, overwrite: _options.Overwrite);
            _completed = true;
            Info = new VectorFileInfo(FullPath, _format, _records, bytes, _layout!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VecMigrateException(FailureKind.WriteFailed, "FileWriteFailed", $"Could not finish {FullPath}: {ex.Message}", FullPath, ex);
        }
    }

    /// <summary>Closes the partial file; without a checkpoint to resume, an unfinished one is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_out is not null) await _out.DisposeAsync().ConfigureAwait(false);
        await _json.DisposeAsync().ConfigureAwait(false);
        if (!_completed && _state is null && _partial is not null)
        {
            try { File.Delete(_partial); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
