using VecMigrate.Hosting;

namespace VecMigrate.Module.Tests.Hosting;

public class CompletionMatcherTests
{
    private static readonly string[] Names = ["docs", "Docs_v2", "archive", "my docs", "it's", "docs"];

    [Fact]
    public void Names_starting_with_the_word_are_offered_sorted_and_once()
    {
        var matches = CompletionMatcher.Find(Names, "do");
        Assert.Equal(["docs", "Docs_v2"], matches.Select(m => m.CompletionText));
    }

    [Fact]
    public void Nothing_typed_offers_every_name()
    {
        Assert.Equal(5, CompletionMatcher.Find(Names, "").Count);
    }

    [Fact]
    public void Names_the_shell_would_split_are_single_quoted()
    {
        var matches = CompletionMatcher.Find(Names, "");
        Assert.Contains(matches, m => m.CompletionText == "'my docs'" && m.ListItemText == "my docs");
        Assert.Contains(matches, m => m.CompletionText == "'it''s'");
    }

    [Fact]
    public void The_users_opening_quote_is_kept()
    {
        Assert.Equal(["'my docs'"], CompletionMatcher.Find(Names, "'my").Select(m => m.CompletionText));
        Assert.Equal(["\"my docs\""], CompletionMatcher.Find(Names, "\"my").Select(m => m.CompletionText));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("-leading", "'-leading'")]
    [InlineData("cost$", "'cost$'")]
    [InlineData("a;b", "'a;b'")]
    public void Quoting_follows_what_PowerShell_would_misread(string name, string expected)
    {
        Assert.Equal(expected, CompletionMatcher.Quote(name));
    }

    [Fact]
    public void Inside_double_quotes_dollar_backtick_and_quote_are_escaped()
    {
        Assert.Equal("\"a`$b``c`\"d\"", CompletionMatcher.Quote("a$b`c\"d", '"'));
    }
}
