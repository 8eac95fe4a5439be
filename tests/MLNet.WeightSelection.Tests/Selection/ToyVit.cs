using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Selection;

/// <summary>A module with a ViT's timm parameter names (no forward pass), to test selection into a module.</summary>
public sealed class ToyVit : nn.Module<Tensor, Tensor>
{
    sealed class PatchEmbed : nn.Module
    {
        public readonly Conv2d proj;
        public PatchEmbed(int embed) : base("patch_embed") { proj = nn.Conv2d(3, embed, 2, stride: 2); RegisterComponents(); }
    }

    sealed class Attention : nn.Module
    {
        public readonly Linear qkv, proj;
        public Attention(int embed, int inner) : base("attn")
        {
            qkv = nn.Linear(embed, 3 * inner);
            proj = nn.Linear(inner, embed);
            RegisterComponents();
        }
    }

    sealed class Mlp : nn.Module
    {
        public readonly Linear fc1, fc2;
        public Mlp(int embed, int hidden) : base("mlp") { fc1 = nn.Linear(embed, hidden); fc2 = nn.Linear(hidden, embed); RegisterComponents(); }
    }

    sealed class Block : nn.Module
    {
        public readonly LayerNorm norm1, norm2;
        public readonly Attention attn;
        public readonly Mlp mlp;
        public Block(VitSize v) : base("block")
        {
            norm1 = nn.LayerNorm(v.Embed);
            attn = new Attention(v.Embed, v.Inner);
            norm2 = nn.LayerNorm(v.Embed);
            mlp = new Mlp(v.Embed, v.Hidden);
            RegisterComponents();
        }
    }

    public readonly Parameter cls_token, pos_embed;
    readonly PatchEmbed patch_embed;
    readonly ModuleList<Block> blocks;
    readonly LayerNorm norm;
    readonly Linear head;

    public ToyVit(VitSize v) : base("toy_vit")
    {
        cls_token = nn.Parameter(randn(1, 1, v.Embed));
        pos_embed = nn.Parameter(randn(1, v.Tokens, v.Embed));
        patch_embed = new PatchEmbed(v.Embed);
        blocks = nn.ModuleList(Enumerable.Range(0, v.Depth).Select(_ => new Block(v)).ToArray());
        norm = nn.LayerNorm(v.Embed);
        head = nn.Linear(v.Embed, v.Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new NotSupportedException("Only the parameter names matter here.");
}
