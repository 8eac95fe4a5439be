using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Models.Vit;
using MLNet.WeightSelection.Tests.Models;
using TorchSharp;
using Xunit;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>
/// A teacher given without its architecture: the family from the keys (timm's names or a layout a family's filter
/// knows), the preset from the shapes, and clear refusals where the checkpoint cannot be told apart.
/// </summary>
public class TeacherArchitectureTests
{
    [Fact]
    public void A_preset_in_timms_names_is_told_with_its_number_of_classes()
    {
        using var weights = Weights(ModelRegistry.WithOverrides(ModelRegistry.GetSpec("resnet18_half"), numClasses: 7), key => key);

        var match = TeacherArchitecture.Detect(weights);

        Assert.Equal("resnet18_half", match.Preset);
        Assert.Equal(7, match.NumClasses);
        Assert.Equal("resnet", match.Spec.Family);
        using var model = match.Spec.CreateModel();
        Assert.Equal(7, model.NumClasses);
    }

    [Fact]
    public void A_meta_named_convnext_is_told_through_the_family_filter()
    {
        using var weights = Weights(ModelRegistry.WithOverrides(ModelRegistry.GetSpec("convnext_atto"), numClasses: 5), CheckpointLayouts.MetaConvNeXtKey);
        Assert.Contains("downsample_layers.0.0.weight", weights.Keys);

        var match = TeacherArchitecture.Detect(weights);

        Assert.Equal("convnext_atto", match.Preset);
        Assert.Equal(5, match.NumClasses);
    }

    [Fact]
    public void A_vit_at_another_image_size_is_told_with_the_size_its_position_embedding_implies()
    {
        var spec = ModelRegistry.WithOverrides(ModelRegistry.GetSpec("vit_tiny_patch16_224"), numClasses: 4, imgSize: 64);
        using var weights = Weights(spec, key => "module." + key);

        var match = TeacherArchitecture.Detect(weights);

        Assert.Equal("vit", match.Spec.Family);
        Assert.Equal(64, match.ImageSize);
        Assert.Equal(64, ((VisionTransformerSpec)match.Spec).ImageSize);
        Assert.Equal(192, ((VisionTransformerSpec)match.Spec).EmbedDim);
    }

    [Fact]
    public void Shapes_no_preset_has_are_refused_with_the_nearest_presets()
    {
        var spec = new VisionTransformerSpec { ImageSize = 16, PatchSize = 4, EmbedDim = 24, Depth = 2, NumHeads = 2, NumClasses = 3 };
        using var weights = Weights(spec, key => key, origin: "tiny-vit.safetensors");

        var e = Assert.Throws<ArgumentException>(() => TeacherArchitecture.Detect(weights));

        Assert.Contains("'tiny-vit.safetensors' is a vit checkpoint, but no registered vit preset has its keys and shapes", e.Message);
        Assert.Contains("nearest: ", e.Message);
        Assert.Contains("Teacher.FromFile(path, architecture)", e.Message);
    }

    [Fact]
    public void Keys_of_no_family_are_refused()
    {
        using var weights = new StateDict("mlp.pt");
        weights.Add("fc1.weight", torch.zeros(4, 3));
        weights.Add("fc2.weight", torch.zeros(2, 4));

        var e = Assert.Throws<ArgumentException>(() => TeacherArchitecture.Detect(weights));

        Assert.Contains("Cannot tell the family of the teacher 'mlp.pt' from its keys", e.Message);
        Assert.Contains("vit", e.Message);
    }

    static StateDict Weights(ModelSpec spec, Func<string, string> rename, string origin = "checkpoint")
    {
        torch.manual_seed(3);
        using var model = spec.CreateModel();
        var renamed = new StateDict(origin);
        foreach (var (key, value) in model.state_dict()) renamed.Add(rename(key), value.detach().clone());
        return renamed;
    }
}
