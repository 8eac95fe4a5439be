namespace MLNet.WeightSelection.Models;

/// <summary>
/// The configuration of one model, per family, in timm's constructor keyword arguments. Its JSON form is
/// <c>{"family": "vit", ...timm keyword arguments...}</c>, as in ../shared/golden/manifest.json's cases.
/// Family records (ViT, ConvNeXt, ResNet) derive from this.
/// </summary>
public abstract record ModelSpec
{
    /// <summary>Family name used in JSON and presets: "vit", "convnext" or "resnet".</summary>
    public abstract string Family { get; }

    /// <summary>Number of classifier outputs (timm's <c>num_classes</c>); 0 gives an identity head.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Input channels (timm's <c>in_chans</c>).</summary>
    public int InChans { get; init; } = 3;

    /// <summary>Builds the module with freshly initialized weights (timm's initialization scheme).</summary>
    public abstract ImageClassifier CreateModel();
}
