using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>Formats a <see cref="BindingScanResult"/> for people: counts, then the failures grouped by missing member.</summary>
public static class BindingReport
{
    /// <summary>The failures grouped by the member the runtime could not find, largest group first.</summary>
    public static IReadOnlyList<IGrouping<string, BindingFailure>> ByMissingMember(BindingScanResult result) =>
        result.Failures.GroupBy(f => $"{f.Exception}: {f.Missing}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The whole report as text. With <paramref name="target"/> (the assembly the missing methods were expected in),
    /// each missing method is followed by the overloads of that name the target has now.
    /// </summary>
    public static string Format(string assembly, BindingScanResult result, Assembly? target = null)
    {
        var text = new StringBuilder();
        text.AppendLine($"{assembly}: {result.TypesLoaded} types loaded, {result.MethodsCompiled} methods compiled "
            + $"({result.GenericInstantiationsCompiled} of them in closed generic instantiations), "
            + $"{result.MethodsWithoutBody} without a body, {result.Failures.Count} failed, {result.Skipped.Count} generic members skipped.");
        foreach (var group in ByMissingMember(result))
        {
            text.AppendLine();
            text.AppendLine($"{group.Key}  ({group.Count()} method{(group.Count() == 1 ? "" : "s")})");
            foreach (var failure in group.OrderBy(f => f.Member, StringComparer.Ordinal)) text.AppendLine($"    {failure.Member}");
            if (target != null && group.First().Exception == nameof(MissingMethodException))
                foreach (string overload in OverloadsNow(target, group.First().Missing))
                    text.AppendLine($"  {target.GetName().Name} {target.GetName().Version} has: {overload}");
        }
        text.AppendLine();
        text.AppendLine("Generic types compiled in:");
        foreach (string closed in result.ClosedGenericTypes) text.AppendLine($"    {closed}");
        if (result.Skipped.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Skipped generic members:");
            foreach (var s in result.Skipped) text.AppendLine($"    {s.Member}: {s.Reason}");
        }
        return text.ToString();
    }

    /// <summary>The target's methods with the name a "Method not found: 'Ret Type.name(...)'" message gives.</summary>
    static IEnumerable<string> OverloadsNow(Assembly target, string message)
    {
        var match = Regex.Match(message, @"'\S+ ([\w`]+)\.(\w+)\(");
        if (!match.Success) return Array.Empty<string>();
        return target.GetTypes()
            .Where(t => t.Name == match.Groups[1].Value)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.Name == match.Groups[2].Value)
            .Select(m => m.ToString()!)
            .Order(StringComparer.Ordinal);
    }
}
