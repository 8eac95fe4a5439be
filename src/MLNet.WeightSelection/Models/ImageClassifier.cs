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

    /// <summary>Input convention (timm's pretrained_cfg); by default the one of <see cref="Spec"/>.</summary>
    public InputConvention Input { get; set; } = InputConvention.ImageNet;

    /// <summary>Backbone: NCHW images (already normalized) to unpooled features (tokens or maps).</summary>
    public abstract Tensor ForwardFeatures(Tensor x);

    /// <summary>Pooling, head norm and classifier; with <paramref name="preLogits"/> the pooled features before the classifier.</summary>
    public abstract Tensor ForwardHead(Tensor features, bool preLogits = false);

    /// <summary>Replaces the classifier with a freshly initialized one for <paramref name="numClasses"/> classes (0: identity).</summary>
    public abstract void ResetClassifier(int numClasses);

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
