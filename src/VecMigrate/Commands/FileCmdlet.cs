using System.Management.Automation;

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
