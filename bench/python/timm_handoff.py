#!/usr/bin/python3
"""The hand-off to PyTorch (docs/scale.md): a student state dict written by `ws select` loads, strictly, into timm's
own model of the same name, gives TorchSharp's logits, and trains under torchrun (DistributedDataParallel).

Run by bench/timm-handoff.sh, with timm's source on PYTHONPATH and Debian's PyTorch:
  parity:  /usr/bin/python3 bench/python/timm_handoff.py --dir D --model vit_tiny_patch16_224 --num-classes 10 --image-size 224
  DDP:     torchrun --nproc_per_node=2 ... bench/python/timm_handoff.py --ddp --dir D --model ... (same options)
D holds student.safetensors (from ws select) and io.safetensors (x and TorchSharp's logits, from the bench's
torchsharp-logits). Prints one line "RESULT {json}" (rank 0 only under torchrun).

The DDP check trains the same start for a few SGD steps twice: under torchrun, each rank on its half of a fixed batch
(gloo, CPU), and in rank 0 alone on the whole batch. DDP averages the ranks' gradients, so with a mean loss over
equal halves both must end at the same weights. The model runs in eval mode for this (BatchNorm on running statistics,
no dropout or drop path), because per-rank batch statistics would make the two legitimately differ.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from select_baseline import load_state_dict  # noqa: E402  (the project's plain safetensors reader, no package needed)

import timm  # noqa: E402


def build(args):
    kwargs = {"num_classes": args.num_classes}
    if args.model.startswith("vit_"):
        kwargs["img_size"] = args.image_size
    model = timm.create_model(args.model, pretrained=False, **kwargs)
    state, _ = load_state_dict(os.path.join(args.dir, "student.safetensors"))
    model.load_state_dict({k: v.clone() for k, v in state.items()}, strict=True)
    return model


def parity(args):
    model = build(args).eval()
    io, _ = load_state_dict(os.path.join(args.dir, "io.safetensors"))
    with torch.no_grad():
        logits = model(io["x"])
    diff = (logits - io["logits"]).abs()
    scale = io["logits"].abs().max().item()
    return {"check": "parity", "model": args.model, "max_abs_diff": diff.max().item(), "max_abs_logit": scale,
            "same_argmax": bool((logits.argmax(1) == io["logits"].argmax(1)).all()),
            "ok": bool(torch.allclose(logits, io["logits"], rtol=1e-4, atol=1e-4))}


def train(model, x, y, steps, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def ddp(args):
    import torch.distributed as dist
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    g = torch.Generator().manual_seed(11)
    batch = 2 * world
    x = torch.randn(batch, 3, args.image_size, args.image_size, generator=g)
    y = torch.randint(0, args.num_classes, (batch,), generator=g)
    model = build(args).eval()
    start = flat(model).clone()
    net = torch.nn.parallel.DistributedDataParallel(model)
    shard = slice(rank * batch // world, (rank + 1) * batch // world)
    train(net, x[shard], y[shard], args.steps, args.lr)
    mine = flat(model)
    gathered = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(gathered, mine)
    result = None
    if rank == 0:
        single = build(args).eval()
        train(single, x, y, args.steps, args.lr)
        result = {"check": "ddp", "model": args.model, "world_size": world, "steps": args.steps,
                  "ranks_max_abs_diff": max((t - gathered[0]).abs().max().item() for t in gathered),
                  "ddp_vs_single_max_abs_diff": (gathered[0] - flat(single)).abs().max().item(),
                  "moved_max_abs": (gathered[0] - start).abs().max().item()}
        result["ok"] = result["ranks_max_abs_diff"] == 0 and result["ddp_vs_single_max_abs_diff"] < 1e-4 and result["moved_max_abs"] > 0
    dist.destroy_process_group()
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--ddp", action="store_true")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args()
    torch.set_num_threads(1)
    result = ddp(args) if args.ddp else parity(args)
    if result is not None:
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
