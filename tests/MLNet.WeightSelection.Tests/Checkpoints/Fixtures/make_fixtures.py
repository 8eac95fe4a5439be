"""Makes the small PyTorch checkpoints the Checkpoints tests read, and expected.json with their exact values.

Run with Debian's PyTorch (apt-get install -y python3-torch; PyTorch 1.13):
    /usr/bin/python3 make_fixtures.py
from this folder. The committed .pt files were made this way; the tests need no python.
"""
import collections
import json

import torch


def state_dict(offset):
    """A tiny timm-style state dict: float32 conv/norm/linear, a float16 head, BatchNorm's int64 scalar buffer."""
    sd = collections.OrderedDict()
    sd["stem.weight"] = (torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2) / 8 - 1 + offset)
    sd["stem.bias"] = torch.tensor([0.25, -0.5], dtype=torch.float32) + offset
    sd["bn.weight"] = torch.tensor([1.5, 0.75], dtype=torch.float32)
    sd["bn.bias"] = torch.tensor([-0.125, 0.0625], dtype=torch.float32)
    sd["bn.running_mean"] = torch.tensor([0.1, -0.2], dtype=torch.float32)
    sd["bn.running_var"] = torch.tensor([1.25, 0.9], dtype=torch.float32)
    sd["bn.num_batches_tracked"] = torch.tensor(7 + int(offset), dtype=torch.int64)
    sd["head.weight"] = (torch.arange(3 * 2, dtype=torch.float32).reshape(3, 2) * 0.5 - 1).to(torch.float16)
    sd["head.bias"] = torch.tensor([0.5, -0.25, 3.0], dtype=torch.float16)
    sd["extra.bf16"] = torch.tensor([1.0, -2.5, 0.015625], dtype=torch.bfloat16)
    sd["extra.mask"] = torch.tensor([True, False, True])
    sd["extra.index"] = torch.tensor([3, -1, 2147483647], dtype=torch.int32)
    return sd


def values(t):
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t.reshape(-1).tolist()


def describe(sd):
    return collections.OrderedDict(
        (k, {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": values(v)})
        for k, v in sd.items())


sd = state_dict(0.0)
ema = state_dict(10.0)

torch.save(sd, "plain.pt")
# A training checkpoint: the EMA weights come first, but 'model' is what a loader must pick.
torch.save({"model_ema": ema, "model": sd, "epoch": 3, "arch": "tiny"}, "wrapped_model.pt")
# DataParallel weights under 'state_dict', with non-tensor neighbours.
torch.save({"epoch": 5, "state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
            "best_acc1": 0.5}, "wrapped_state_dict_module.pth")
# Only EMA weights: a loader must not choose them silently.
torch.save({"model_ema": ema, "epoch": 1}, "ema_only.pt")
# PyTorch's legacy (pre-1.6) format, which PyBridge cannot read.
torch.save(sd, "legacy.pt", _use_new_zipfile_serialization=False)

with open("expected.json", "w") as f:
    json.dump({"torch": torch.__version__, "state_dict": describe(sd), "model_ema": describe(ema)}, f, indent=1)
