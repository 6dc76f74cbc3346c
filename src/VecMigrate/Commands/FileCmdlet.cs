using System.Management.Automation;
using VecMigrate.Engine.Files;

namespace VecMigrate.Commands;

/// <summary>The -Path every file cmdlet takes, resolved against the current PowerShell location.</summary>
public abstract class FileCmdlet : VecMigrateCmdlet
{
    /// <summary>The file; .parquet, .jsonl or .jsonl.gz tells the format.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>-Path as a file system path (relative to the current location, not the process's directory).</summary>
    private protected string FilePath() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
}

/// <summary>
/// What Export-VectorRecord and New-FileTarget both take: the file to write, records per batch, and -Force. -Path is
/// not taken from piped objects here: the pipeline carries the records.
/// </summary>
public abstract class FileWriteCmdlet : VecMigrateCmdlet
{
    /// <summary>The file to write; .parquet, .jsonl or .jsonl.gz tells the format.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Records per batch: a Parquet row group, or a run of JSONL lines (a gzip member); each is a checkpoint.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = FileSinkOptions.DefaultBatchSize;

    /// <summary>Replace the file if it exists (once the new one is complete).</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>-Path as a file system path (relative to the current location, not the process's directory).</summary>
    private protected string FilePath() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
}
