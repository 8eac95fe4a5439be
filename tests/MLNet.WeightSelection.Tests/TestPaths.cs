using System.Reflection;

namespace MLNet.WeightSelection.Tests;

/// <summary>Locations of test material inside the repository, and the tests' temporary folders.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding MLNet.WeightSelection.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The folder of timm-made golden vectors (tests/golden; tests/golden/README.md says how they were made).</summary>
    public static string Golden { get; } = Path.Combine(RepoRoot, "tests", "golden");

    /// <summary>Path of a file in the golden folder.</summary>
    public static string GoldenFile(string name) => Path.Combine(Golden, name);

    /// <summary>
    /// The built assembly of another project of the repository (built with the test project, same configuration):
    /// for tests that start it as a child process.
    /// </summary>
    public static string BuiltAssembly(string projectFolder, string fileName)
    {
        string configuration = typeof(TestPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string path = Path.Combine(RepoRoot, projectFolder, "bin", configuration, "net10.0", fileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{fileName} is not built at {path}; it builds with the test project.", path);
        return path;
    }

    /// <summary>
    /// A new empty temporary folder, removed when the running test ends, pass or fail
    /// (<see cref="RemoveTestTempFoldersAttribute"/>); made by a test class's constructor, when that test ends.
    /// A fixture shared by several tests owns a <see cref="TempFolder"/> instead.
    /// </summary>
    public static string NewTempDirectory()
    {
        string path = TempFolder.Create();
        RemoveTestTempFoldersAttribute.Track(path);
        return path;
    }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNet.WeightSelection.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No MLNet.WeightSelection.sln above {AppContext.BaseDirectory}.");
    }
}
