using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Models.Vit;

/// <summary>timm's <c>PatchEmbed</c>: a patch_size-strided convolution <c>proj</c>, flattened to [B, tokens, embed_dim].</summary>
internal sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    readonly Conv2d proj;

    /// <summary>Creates the embedding for square <paramref name="imageSize"/> images.</summary>
    public PatchEmbed(int imageSize, int patchSize, int inChans, int embedDim) : base(nameof(PatchEmbed))
    {
        ImageSize = imageSize;
        PatchSize = patchSize;
        proj = nn.Conv2d(inChans, embedDim, patchSize, stride: patchSize, bias: true);
        RegisterComponents();
    }

    /// <summary>The image side this embedding (and its model's position embedding) is built for.</summary>
    public int ImageSize { get; }

    /// <summary>The patch side.</summary>
    public int PatchSize { get; }

    /// <summary>The projection convolution (<c>patch_embed.proj</c>).</summary>
    public Conv2d Proj => proj;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[2] != ImageSize || x.shape[3] != ImageSize)
            throw new ArgumentException(
                $"This ViT takes [N, C, {ImageSize}, {ImageSize}] images (img_size {ImageSize}); got [{string.Join(", ", x.shape)}]. " +
                "Build the model at this image size (position embeddings are resampled when a checkpoint is loaded).");
        using var scope = NewDisposeScope();
        return proj.call(x).flatten(2).transpose(1, 2).MoveToOuterDisposeScope();
    }
}
