using System.Reflection;
using Xunit.Sdk;

[assembly: MLNet.WeightSelection.Tests.RemoveTestTempFolders]

namespace MLNet.WeightSelection.Tests;

/// <summary>
/// Applied to the whole assembly: after each test, pass or fail, removes every folder that
/// <see cref="TestPaths.NewTempDirectory"/> made since the previous test ended, which covers the test's class
/// constructor as well as its body. One list is enough because the assembly runs its tests one at a time
/// (TestAssemblySetup.cs). Fixtures shared by several tests must own a <see cref="TempFolder"/> instead.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class RemoveTestTempFoldersAttribute : BeforeAfterTestAttribute
{
    static readonly object Gate = new();
    static readonly List<string> Made = new();

    /// <summary>Records a folder for removal when the running (or next) test ends.</summary>
    internal static void Track(string path)
    {
        lock (Gate) Made.Add(path);
    }

    /// <inheritdoc/>
    public override void After(MethodInfo methodUnderTest)
    {
        string[] made;
        lock (Gate) { made = Made.ToArray(); Made.Clear(); }
        foreach (var path in made) TempFolder.TryDelete(path);
    }
}
