using System.Reflection;
using Xunit.Sdk;

[assembly: MLNet.WeightSelection.Tests.RemoveTestTempFolders]

namespace MLNet.WeightSelection.Tests;

/// <summary>
/// Applied to the whole assembly: every temporary folder that <see cref="TestPaths.NewTempDirectory"/> makes while a
/// test runs is removed when that test ends, pass or fail. Folders made by fixtures (before the test's Before) stay
/// until the run's exit. One list is enough because the assembly runs its tests one at a time (TestAssemblySetup.cs).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class RemoveTestTempFoldersAttribute : BeforeAfterTestAttribute
{
    static readonly object Gate = new();
    static List<string>? _current;

    /// <summary>Records a folder made during the running test, if one is running.</summary>
    internal static void Track(string path)
    {
        lock (Gate) _current?.Add(path);
    }

    /// <inheritdoc/>
    public override void Before(MethodInfo methodUnderTest)
    {
        lock (Gate) _current = new List<string>();
    }

    /// <inheritdoc/>
    public override void After(MethodInfo methodUnderTest)
    {
        List<string> made;
        lock (Gate) { made = _current ?? new List<string>(); _current = null; }
        foreach (var path in made) TempFolder.TryDelete(path);
    }
}
