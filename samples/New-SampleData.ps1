#Requires -Version 7.4
<#
.SYNOPSIS
    Writes samples/docs.jsonl: the sample dataset of the first run, the same bytes on every run.
.DESCRIPTION
    2,000 made-up documents, one JSON object a line: an integer id, a 64-dimensional unit vector
    ("embedding") and a payload (title, topic, year, tags, a nested source object). The documents fall
    into eight topics; each topic's vectors lie around a centre of its own, so that a document's nearest
    neighbours are mostly documents of its topic: what the first run's nearest-neighbour query shows.

    Everything comes from System.Random with a fixed seed (its seeded sequence is the same in every .NET
    version) and is printed with the invariant culture, so the file is reproducible: run this and
    `git diff samples/docs.jsonl` shows nothing.
.EXAMPLE
    pwsh ./samples/New-SampleData.ps1
#>
[CmdletBinding()]
param(
    [string] $Path = (Join-Path $PSScriptRoot 'docs.jsonl'),
    [ValidateRange(1, 100000)] [int] $Count = 2000,
    [ValidateRange(2, 4096)] [int] $Dimensions = 64,
    [int] $Seed = 20261203
)

$ErrorActionPreference = 'Stop'
$random = [System.Random]::new($Seed)
$inv = [System.Globalization.CultureInfo]::InvariantCulture

$topics = [ordered]@{
    astronomy = 'comets', 'exoplanets', 'nebulae', 'pulsars', 'eclipses', 'telescopes'
    cooking   = 'sourdough', 'fermentation', 'knife skills', 'spices', 'stocks', 'pastry'
    databases = 'indexes', 'replication', 'vacuum', 'query plans', 'partitioning', 'transactions'
    gardening = 'compost', 'tomatoes', 'pruning', 'seed saving', 'soil', 'perennials'
    music     = 'counterpoint', 'jazz harmony', 'rhythm', 'orchestration', 'tuning', 'synthesis'
    sailing   = 'knots', 'navigation', 'trim', 'tides', 'anchoring', 'weather'
    history   = 'trade routes', 'archives', 'empires', 'printing', 'maps', 'revolutions'
    running   = 'intervals', 'marathons', 'trail running', 'recovery', 'cadence', 'shoes'
}
$openings = 'A field guide to', 'Notes on', 'The hidden life of', 'Ten questions about', 'Getting started with',
            'What nobody tells you about', 'A short history of', 'Mistakes I made with'
$publishers = 'Northwind Press', 'Blue Fjord Books', 'Lantern House', 'Open Shelf'

function New-UnitVector([double[]] $around, [double] $spread) {
    $v = [double[]]::new($Dimensions)
    $norm = 0.0
    for ($i = 0; $i -lt $Dimensions; $i++) {
        # A sum of three uniforms: near enough to a normal deviate, and cheap.
        $noise = ($random.NextDouble() + $random.NextDouble() + $random.NextDouble() - 1.5) * $spread
        $v[$i] = ($around ? $around[$i] : 0.0) + $noise
        $norm += $v[$i] * $v[$i]
    }
    $norm = [Math]::Sqrt($norm)
    for ($i = 0; $i -lt $Dimensions; $i++) { $v[$i] /= $norm }
    , $v
}

$centres = @{}
foreach ($topic in $topics.Keys) { $centres[$topic] = New-UnitVector $null 1.0 }
$topicNames = @($topics.Keys)

$writer = [System.IO.StreamWriter]::new($Path, $false, [System.Text.UTF8Encoding]::new($false))
$writer.NewLine = "`n"
try {
    for ($id = 1; $id -le $Count; $id++) {
        $topic = $topicNames[$random.Next($topicNames.Count)]
        $subjects = $topics[$topic]
        $subject = $subjects[$random.Next($subjects.Count)]
        $vector = New-UnitVector $centres[$topic] 0.12
        $tags = @($topic, $subjects[$random.Next($subjects.Count)]) | Select-Object -Unique
        $document = [ordered]@{
            id        = $id
            embedding = @($vector | ForEach-Object { [Math]::Round($_, 5) })
            title     = "$($openings[$random.Next($openings.Count)]) $subject"
            topic     = $topic
            year      = 1990 + $random.Next(36)
            tags      = @($tags)
            source    = [ordered]@{ publisher = $publishers[$random.Next($publishers.Count)]; pages = 40 + $random.Next(400) }
        }
        $json = ConvertTo-Json -InputObject $document -Compress -Depth 4
        $writer.WriteLine($json)
    }
}
finally {
    $writer.Dispose()
}
$size = (Get-Item -LiteralPath $Path).Length
Write-Host ("Wrote {0:N0} documents of {1} dimensions to {2} ({3:N0} bytes)" -f $Count, $Dimensions, $Path, $size)
