using MLNet.WeightSelection.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>Spec of <see cref="TinyClassifier"/>: a conv + BatchNorm + linear head used to test training.</summary>
public sealed record TinySpec : ModelSpec
{
    public override string Family => "tiny";
    public int Width { get; init; } = 8;
    public double DropRate { get; init; }
    public override ImageClassifier CreateModel() => new TinyClassifier(this);

    protected override void WriteKwargs(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteNumber("width", Width);
        writer.WriteNumber("drop_rate", DropRate);
    }
}

/// <summary>A small image classifier deriving from <see cref="ImageClassifier"/>: conv3×3 → BN → ReLU → conv3×3 s2 → BN → ReLU → mean pool → dropout → linear.</summary>
public sealed class TinyClassifier : ImageClassifier
{
    TinySpec _spec;
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Dropout head_drop;
    nn.Module<Tensor, Tensor> head;

    public TinyClassifier(TinySpec spec) : base(nameof(TinyClassifier))
    {
        _spec = spec;
        conv1 = nn.Conv2d(spec.InChans, spec.Width, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(spec.Width);
        conv2 = nn.Conv2d(spec.Width, spec.Width * 2, 3, stride: 2, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(spec.Width * 2);
        head_drop = nn.Dropout(spec.DropRate);
        head = spec.NumClasses > 0 ? nn.Linear(spec.Width * 2, spec.NumClasses) : nn.Identity();
        RegisterComponents();
    }

    public static TinyClassifier Create(int numClasses, int seed, int width = 8, double dropRate = 0)
    {
        manual_seed(seed);
        return new TinyClassifier(new TinySpec { NumClasses = numClasses, Width = width, DropRate = dropRate });
    }

    public override ModelSpec Spec => _spec;
    public override int NumFeatures => _spec.Width * 2;
    public override int NumClasses => _spec.NumClasses;
    public override IReadOnlyList<string> ClassifierKeys => _spec.NumClasses > 0 ? new[] { "head.weight", "head.bias" } : Array.Empty<string>();

    /// <summary>Called at every forward with whether the model is in training mode (for tests that watch process-wide switches).</summary>
    public Action<bool>? OnForward { get; set; }

    /// <summary>When it returns true, the forward's features are NaN (standing in for a faulty native kernel).</summary>
    public Func<bool>? PoisonFeaturesWhen { get; set; }

    public override Tensor ForwardFeatures(Tensor x)
    {
        OnForward?.Invoke(training);
        using var scope = NewDisposeScope();
        var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
        y = nn.functional.relu(bn2.forward(conv2.forward(y)));
        if (PoisonFeaturesWhen?.Invoke() == true) y = y.mul(double.NaN);
        return y.MoveToOuterDisposeScope();
    }

    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var pooled = features.mean(new long[] { 2, 3 });
        if (preLogits) return pooled.MoveToOuterDisposeScope();
        return head.forward(head_drop.forward(pooled)).MoveToOuterDisposeScope();
    }

    public override void ResetClassifier(int numClasses)
    {
        _spec = _spec with { NumClasses = numClasses };
        head.Dispose();
        register_module("head", null!); // unregisters the old classifier
        head = numClasses > 0 ? nn.Linear(_spec.Width * 2, numClasses) : nn.Identity();
        register_module("head", head);
    }
}
