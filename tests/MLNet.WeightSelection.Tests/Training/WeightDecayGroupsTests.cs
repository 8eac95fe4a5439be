using MLNet.WeightSelection.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class WeightDecayGroupsTests
{
    /// <summary>Parameters named like a ViT's: embeddings, tokens, norms, layer scale, linear layers.</summary>
    sealed class VitLike : nn.Module<Tensor, Tensor>
    {
        readonly Parameter pos_embed = nn.Parameter(zeros(1, 5, 4));
        readonly Parameter cls_token = nn.Parameter(zeros(1, 1, 4));
        readonly Conv2d proj = nn.Conv2d(3, 4, 2);
        readonly LayerNorm norm = nn.LayerNorm(4);
        readonly Parameter gamma = nn.Parameter(ones(4));
        readonly Linear fc1 = nn.Linear(4, 8);
        readonly Linear head = nn.Linear(8, 2, hasBias: false);

        public VitLike() : base(nameof(VitLike)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void NoDecayHoldsExactlyNormsBiasesTokensAndPositionEmbeddings()
    {
        using var model = new VitLike();
        var (decay, noDecay) = WeightDecayGroups.Split(model.named_parameters(), new[] { "pos_embed", "cls_token" });

        Assert.Equal(new[] { "fc1.weight", "head.weight", "proj.weight" }, decay.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(new[] { "cls_token", "fc1.bias", "gamma", "norm.bias", "norm.weight", "pos_embed", "proj.bias" },
            noDecay.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void TinyConvNetDecaysOnlyConvAndLinearWeights()
    {
        using var model = TinyClassifier.Create(3, seed: 1);
        var (decay, noDecay) = WeightDecayGroups.Split(model.named_parameters());
        Assert.Equal(new[] { "conv1.weight", "conv2.weight", "head.weight" }, decay.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(new[] { "bn1.bias", "bn1.weight", "bn2.bias", "bn2.weight", "head.bias" }, noDecay.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void FrozenParametersAreLeftOut()
    {
        using var model = TinyClassifier.Create(3, seed: 1);
        foreach (var (name, p) in model.named_parameters()) if (name.StartsWith("bn1", StringComparison.Ordinal)) p.requires_grad = false;
        var (decay, noDecay) = WeightDecayGroups.Split(model.named_parameters());
        Assert.DoesNotContain(decay.Concat(noDecay), p => p.Name.StartsWith("bn1", StringComparison.Ordinal));
        Assert.Equal(6, decay.Count + noDecay.Count);
    }
}
