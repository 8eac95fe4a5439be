using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.Selection;

/// <summary>
/// A pattern over timm parameter names: literal text, <c>{name}</c> captures a layer or stage number, and <c>*</c>
/// matches one name segment (no dots). <c>blocks.{i}.norm1.*</c> matches <c>blocks.3.norm1.weight</c> with i = 3.
/// </summary>
public sealed class KeyPattern
{
    static readonly Regex Placeholder = new(@"\{(?<name>[A-Za-z_]\w*)\}", RegexOptions.Compiled);
    static readonly Regex TemplatePlaceholder = new(@"\{(?<name>[A-Za-z_]\w*)(?<op>[+-]\d+)?\}", RegexOptions.Compiled);
    readonly Regex _regex;

    /// <summary>Compiles <paramref name="text"/>; the whole key must match.</summary>
    public KeyPattern(string text) : this(text, prefixOnly: false) { }

    KeyPattern(string text, bool prefixOnly)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        Text = text;
        var regex = new StringBuilder("^");
        int at = 0;
        foreach (Match m in Placeholder.Matches(text))
        {
            regex.Append(EscapeLiteral(text[at..m.Index]));
            regex.Append("(?<").Append(m.Groups["name"].Value).Append(@">\d+)");
            at = m.Index + m.Length;
        }
        regex.Append(EscapeLiteral(text[at..]));
        regex.Append(prefixOnly ? @"(?=\.)" : "$");
        _regex = new Regex(regex.ToString(), RegexOptions.CultureInvariant);
        Names = Placeholder.Matches(text).Select(m => m.Groups["name"].Value).ToArray();
    }

    /// <summary>A pattern that matches the start of a key up to a dot (<c>blocks.{i}</c> matches <c>blocks.3.attn.qkv.weight</c>).</summary>
    public static KeyPattern Prefix(string text) => new(text, prefixOnly: true);

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The placeholder names, in order of appearance.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Matches <paramref name="key"/>; on success <paramref name="captures"/> holds each placeholder's number.</summary>
    public bool TryMatch(string key, out IReadOnlyDictionary<string, int> captures)
    {
        var m = _regex.Match(key);
        if (!m.Success) { captures = Empty; return false; }
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in Names)
            values[name] = int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture);
        captures = values;
        return true;
    }

    /// <summary>The regex match itself, for callers that splice keys (layer selection rewrites the layer number).</summary>
    internal Match Match(string key) => _regex.Match(key);

    /// <summary>True when <paramref name="key"/> matches.</summary>
    public bool IsMatch(string key) => _regex.IsMatch(key);

    /// <summary>
    /// Fills a width-name template such as <c>stages.{s}.blocks.{i}.mlp.hidden</c> or <c>stages.{s-1}</c> with
    /// captured numbers. An unknown placeholder is an error in the schema, so it throws.
    /// </summary>
    public static string Fill(string template, IReadOnlyDictionary<string, int> captures) =>
        TemplatePlaceholder.Replace(template, m =>
        {
            string name = m.Groups["name"].Value;
            if (!captures.TryGetValue(name, out int value))
                throw new ArgumentException($"Template '{template}' uses {{{name}}}, which its key pattern does not capture.");
            if (m.Groups["op"].Success) value += int.Parse(m.Groups["op"].Value, CultureInfo.InvariantCulture);
            return value.ToString(CultureInfo.InvariantCulture);
        });

    /// <inheritdoc />
    public override string ToString() => Text;

    static readonly IReadOnlyDictionary<string, int> Empty = new Dictionary<string, int>();

    static string EscapeLiteral(string literal) => Regex.Escape(literal).Replace(@"\*", @"[^.]+");
}
