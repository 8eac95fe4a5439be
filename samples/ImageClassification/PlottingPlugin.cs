using System.Reflection;
using System.Runtime.Loader;

namespace ImageClassification;

/// <summary>
/// Loads the chart renderer (plotting/ImageClassification.Plotting.dll, ScottPlot) into its own load context, so each
/// side keeps its own SkiaSharp, managed and native. Only strings and double arrays cross over. The split dates from
/// ML.NET 5.0.1, whose image transforms needed SkiaSharp 2.88; ML.NET 6.0.0 uses SkiaSharp 3.119 like ScottPlot.
/// </summary>
internal static class PlottingPlugin
{
    public const string FolderName = "plotting";
    const string AssemblyFile = "ImageClassification.Plotting.dll";

    static readonly Lazy<Func<string, string[], double[][], double[][], string, string, int, int, byte[]>> Render = new(Load, isThreadSafe: true);

    /// <summary>Renders line series to PNG bytes (see Plotting/AccuracyChart.cs).</summary>
    public static byte[] RenderPng(string title, string[] names, double[][] xs, double[][] ys, string xLabel, string yLabel, int width, int height) =>
        Render.Value(title, names, xs, ys, xLabel, yLabel, width, height);

    static Func<string, string[], double[][], double[][], string, string, int, int, byte[]> Load()
    {
        string directory = Path.Combine(Path.GetDirectoryName(typeof(PlottingPlugin).Assembly.Location) ?? AppContext.BaseDirectory, FolderName);
        string path = Path.Combine(directory, AssemblyFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The chart renderer {path} is missing; building ImageClassification.csproj puts it there.", path);
        var context = new PluginLoadContext(path);
        var assembly = context.LoadFromAssemblyPath(path);
        var method = assembly.GetType("ImageClassification.Plotting.AccuracyChart", throwOnError: true)!
            .GetMethod("RenderPng", BindingFlags.Public | BindingFlags.Static)
            ?? throw new MissingMethodException("ImageClassification.Plotting.AccuracyChart", "RenderPng");
        return method.CreateDelegate<Func<string, string[], double[][], double[][], string, string, int, int, byte[]>>();
    }

    /// <summary>Resolves the plugin's managed and native dependencies from its .deps.json, never from the app's.</summary>
    sealed class PluginLoadContext : AssemblyLoadContext
    {
        readonly AssemblyDependencyResolver _resolver;

        public PluginLoadContext(string pluginPath) : base("ImageClassification.Plotting", isCollectible: false) =>
            _resolver = new AssemblyDependencyResolver(pluginPath);

        protected override Assembly? Load(AssemblyName name) =>
            _resolver.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null;

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
