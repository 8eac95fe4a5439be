using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// Base of every model family: a TorchSharp module whose parameter and buffer names are timm's, split like timm's
/// models into <see cref="ForwardFeatures"/> (tokens or feature maps), <see cref="ForwardHead"/> (pooling, head
/// norm and classifier) and <c>forward</c>. Feature distillation and linear probing use the pre-logits features.
/// </summary>
public abstract class ImageClassifier : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module; derived classes call <c>RegisterComponents()</c> once their fields are set.</summary>
    protected ImageClassifier(string name) : base(name) { }

    /// <summary>The configuration this model was built from.</summary>
    public abstract ModelSpec Spec { get; }

    /// <summary>Width of the pooled pre-logits features (timm's <c>num_features</c> / <c>head_hidden_size</c>).</summary>
    public abstract int NumFeatures { get; }

    /// <summary>Number of classes of the classifier (0 when the classifier is an identity).</summary>
    public abstract int NumClasses { get; }

    /// <summary>State-dict keys of the final classifier: the only tensors weight selection leaves to the student's own init.</summary>
    public abstract IReadOnlyList<string> ClassifierKeys { get; }

    /// <summary>
    /// Names of parameters the optimizer does not decay although they have more than one axis (timm's
    /// <c>no_weight_decay()</c>), matched against a parameter name's last part. None by default.
    /// </summary>
    public virtual IReadOnlyCollection<string> NoWeightDecay => Array.Empty<string>();

    /// <summary>Input convention (timm's pretrained_cfg); by default the one of <see cref="Spec"/>.</summary>
    public InputConvention Input { get; set; } = InputConvention.ImageNet;

    /// <summary>Backbone: NCHW images (already normalized) to unpooled features (tokens or maps).</summary>
    public abstract Tensor ForwardFeatures(Tensor x);

    /// <summary>Pooling, head norm and classifier; with <paramref name="preLogits"/> the pooled features before the classifier.</summary>
    public abstract Tensor ForwardHead(Tensor features, bool preLogits = false);

    /// <summary>Replaces the classifier with a freshly initialized one for <paramref name="numClasses"/> classes (0: identity).</summary>
    public abstract void ResetClassifier(int numClasses);

    /// <summary>
    /// The family's checkpoint adapter (timm's <c>checkpoint_filter_fn</c>): key renames and shape fixes applied by
    /// <see cref="LoadStateDict"/>, such as ViT position-embedding resampling.
    /// </summary>
    public CheckpointFilter CheckpointFilter => Spec.CreateCheckpointFilter();

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> into this model by timm key, under no_grad, after the family's
    /// <see cref="CheckpointFilter"/>. Strict (the default) requires the key sets to match exactly; a non-strict load
    /// skips missing and unexpected keys and reports them. A shape that cannot be adapted is always an error.
    /// Nothing is copied unless the whole checkpoint fits.
    /// </summary>
    /// <exception cref="StateDictLoadException">Lists all missing keys, unexpected keys and shape mismatches at once.</exception>
    public StateDictLoadResult LoadStateDict(ITensorSource source, bool strict = true) => StateDictLoader.Load(this, source, strict);

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var features = ForwardFeatures(x);
        return ForwardHead(features);
    }

    /// <summary>Pooled pre-logits features of <paramref name="x"/>.</summary>
    public Tensor ForwardPreLogits(Tensor x)
    {
        using var features = ForwardFeatures(x);
        return ForwardHead(features, preLogits: true);
    }
}
