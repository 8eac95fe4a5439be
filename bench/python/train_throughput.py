#!/usr/bin/python3
"""PyTorch baseline for the training-throughput benchmark (bench/README.md).

Times one training step (forward, cross-entropy, backward, AdamW step) of the same architectures the C# benchmark
times, at 32 px, batch 64, on random data, with the same thread count. The models are written here from their
published definitions (timm is not installed on Debian); their parameter counts are printed so they can be checked
against the C# models. Run with Debian's PyTorch:  /usr/bin/python3 bench/python/train_throughput.py --threads 2
Prints one JSON object per model: {"model", "params", "images_per_second", "step_ms"}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        return F.relu(x + shortcut)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), channels=(32, 64, 128, 256), stem=32, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], stem
        for i, (n, c) in enumerate(zip(layers, channels)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(cin, c, 2 if (b == 0 and i > 0) else 1))
                cin = c
            stages.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(x.mean((2, 3)))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """conv_mlp form (1x1 convs), as timm's atto-nano presets."""

    def __init__(self, dim):
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = LayerNorm2d(dim, eps=1e-6)
        self.fc1 = nn.Conv2d(dim, 4 * dim, 1)
        self.fc2 = nn.Conv2d(4 * dim, dim, 1)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x):
        y = self.fc2(F.gelu(self.fc1(self.norm(self.conv_dw(x)))))
        return x + y * self.gamma.reshape(1, -1, 1, 1)


class ConvNeXt(nn.Module):
    def __init__(self, depths=(2, 2, 6, 2), dims=(48, 96, 192, 384), num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6))
        stages = []
        for i, (d, c) in enumerate(zip(depths, dims)):
            mods = [] if i == 0 else [LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], c, 2, 2)]
            mods += [ConvNeXtBlock(c) for _ in range(d)]
            stages.append(nn.Sequential(*mods))
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.fc = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x)).mean((2, 3))
        return self.fc(self.norm(x))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        x = (a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class ViTBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, img=32, patch=4, dim=192, depth=12, heads=3, num_classes=10):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[ViTBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


MODELS = {
    "resnet18_half": ResNet,
    "vit_tiny_patch4_32": ViT,
    "convnext_femto": ConvNeXt,
}


def time_model(name, threads, batch, size, warmup, steps):
    torch.manual_seed(0)
    model = MODELS[name]()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 10, (batch,))
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - start
    return {
        "model": name,
        "framework": "pytorch " + torch.__version__,
        "threads": threads,
        "params": sum(p.numel() for p in model.parameters()),
        "images_per_second": batch * steps / elapsed,
        "step_ms": 1000 * elapsed / steps,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    # ViT is not timed by default: Debian's PyTorch uses a generic BLAS (about 1/6 of libtorch's GEMM rate here),
    # so it is no fair baseline for matmul-heavy models; the C# benchmark measures ViT against the GEMM rate.
    p.add_argument("--models", default="resnet18_half,convnext_femto")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.models.split(","):
        print(json.dumps(time_model(name, args.threads, args.batch, args.size, args.warmup, args.steps)), flush=True)


if __name__ == "__main__":
    main()
