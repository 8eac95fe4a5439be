using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.ML.TorchSharp;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>
/// Does Microsoft.ML.TorchSharp 0.24.0, built against TorchSharp 0.102.7, still bind against the TorchSharp 0.107.0
/// that this library brings? The known answer is pinned here, so a package update that changes it shows up.
/// </summary>
public class BindingTests(ITestOutputHelper output)
{
    static readonly Assembly MLNetTorchSharp = typeof(TorchSharpCatalog).Assembly;

    /// <summary>
    /// The one member Microsoft.ML.TorchSharp 0.24.0 calls that TorchSharp 0.107.0 no longer has: 0.107 added an
    /// antialias flag to <c>functional.interpolate</c>. Both callers are in the object-detection model (AutoFormerV2).
    /// </summary>
    const string Interpolate = "Method not found: 'Tensor functional.interpolate(Tensor, Int64[], Double[], InterpolationMode, System.Nullable`1<Boolean>, Boolean)'.";

    static readonly BindingFailure[] KnownFailures =
    {
        new("Microsoft.ML.TorchSharp.AutoFormerV2.AutoFormerV2Block::forward(Tensor, Int32, Int32, Tensor)", nameof(MissingMethodException), Interpolate),
        new("Microsoft.ML.TorchSharp.AutoFormerV2.FPN::forward(List`1)", nameof(MissingMethodException), Interpolate),
    };

    [Fact]
    public void Every_method_of_Microsoft_ML_TorchSharp_compiles_except_the_two_object_detection_forwards()
    {
        var result = BindingScan.Run(MLNetTorchSharp);
        output.WriteLine(BindingReport.Format(MLNetTorchSharp.GetName().ToString(), result, typeof(torch).Assembly));

        Assert.Equal(KnownFailures, result.Failures.OrderBy(f => f.Member, StringComparer.Ordinal));
        Assert.Empty(result.Skipped);

        // Coverage, counted from the file's own metadata: every type loaded, every method body compiled or failed.
        using var pe = new PEReader(File.OpenRead(MLNetTorchSharp.Location));
        var metadata = pe.GetMetadataReader();
        Assert.Equal(metadata.TypeDefinitions.Count - 1, result.TypesLoaded); // less <Module>
        var bodies = metadata.MethodDefinitions
            .Where(h => metadata.GetMethodDefinition(h).RelativeVirtualAddress != 0)
            .Select(h => System.Reflection.Metadata.Ecma335.MetadataTokens.GetToken(h)).ToHashSet();
        var notCompiled = bodies.Except(result.CompiledMethodTokens)
            .Select(token => BindingScan.Describe(MLNetTorchSharp.ManifestModule.ResolveMethod(token)!))
            .Order(StringComparer.Ordinal);
        Assert.Equal(KnownFailures.Select(f => f.Member), notCompiled);
    }

    [Fact]
    public void Every_member_reference_resolves_except_the_old_interpolate()
    {
        var result = MemberReferenceScan.Run(MLNetTorchSharp, typeof(torch).Assembly);
        output.WriteLine($"{result.References} member references: {result.ResolvedIntoTarget} resolve into TorchSharp "
            + $"{typeof(torch).Assembly.GetName().Version}, {result.NeedGenericContext} need a generic context (covered by the JIT scan), "
            + $"{result.Failures.Count} do not resolve.");
        foreach (var failure in result.Failures) output.WriteLine($"    {failure.Member}: {failure.Exception}: {failure.Missing}");

        var failure1 = Assert.Single(result.Failures);
        Assert.Equal("TorchSharp.torch+nn+functional::interpolate", failure1.Member);
        Assert.Equal(nameof(MissingMethodException), failure1.Exception);
        Assert.True(result.ResolvedIntoTarget > 100, $"only {result.ResolvedIntoTarget} references into TorchSharp resolved");
    }

    [Fact]
    public void Microsoft_ML_TorchSharp_asks_for_an_older_TorchSharp_and_gets_the_one_this_library_uses()
    {
        var asked = MLNetTorchSharp.GetReferencedAssemblies().Single(a => a.Name == "TorchSharp");
        var loaded = typeof(torch).Assembly.GetName();
        output.WriteLine($"Microsoft.ML.TorchSharp {MLNetTorchSharp.GetName().Version} references TorchSharp {asked.Version}; loaded: TorchSharp {loaded.Version}.");
        Assert.True(asked.Version < loaded.Version, $"referenced {asked.Version}, loaded {loaded.Version}");
        Assert.Equal(new Version(0, 107, 0, 0), loaded.Version);
        Assert.Same(typeof(torch).Assembly, Assembly.Load(asked));
        Assert.Same(typeof(torch).Assembly, typeof(WeightSelectionOptions).Assembly.GetReferencedAssemblies()
            .Where(a => a.Name == "TorchSharp").Select(Assembly.Load).Single());
    }
}
