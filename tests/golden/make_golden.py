#!/usr/bin/env python3
"""Makes the golden vectors of tests/golden from the cases in manifest.json, with timm and PyTorch.

For each case: the teacher and the student are built with timm from the case's keyword arguments, every
floating tensor is perturbed with a fixed seed, weight selection is done here in plain PyTorch (uniform
element selection, first-N layer selection), and three files are written:
CASE.teacher.safetensors, CASE.student.safetensors and CASE.io.safetensors (README.md says what each holds).
The manifest's "generator" field is rewritten with the timm and torch versions and the CPU capability used.

Usage (README.md says how to get timm's source and Debian's torch):
    PYTHONPATH=/path/to/timm /usr/bin/python3 tests/golden/make_golden.py [--out DIR]
"""

import argparse
import json
import os
import subprocess
import sys
from functools import partial

# torch's sampler for float tensors of 16 or more elements has an AVX2 path whose last bits differ from its
# default path, so every file depends on the kernels torch dispatches to. Pin AVX2 (an AVX512 machine would
# otherwise dispatch to its AVX512 kernels); main() checks that torch took it.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")

import numpy as np
import torch

import timm
from timm.layers import get_act_layer
from timm.models._efficientnet_builder import decode_arch_def, round_channels
from timm.models.convnext import ConvNeXt
from timm.models.efficientnet import EfficientNet
from timm.models.resnet import BasicBlock, Bottleneck, ResNet
from timm.models.swin_transformer import SwinTransformer
from timm.models.vision_transformer import VisionTransformer

HERE = os.path.dirname(os.path.abspath(__file__))

# Large enough that a wrong index or a swapped tensor changes the logits, small enough that the models stay
# near their initialization.
PERTURBATION_STD = 0.05
RESNET_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}
SAFETENSORS_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def build_model(family, kwargs):
    """The timm model of a family from the manifest's keyword arguments."""
    if family == "vit":
        return VisionTransformer(**kwargs)
    if family == "convnext":
        return ConvNeXt(**kwargs)
    if family == "resnet":
        kwargs = dict(kwargs)
        block = kwargs.pop("block")
        if block not in RESNET_BLOCKS:
            raise ValueError(f"resnet block '{block}' is not one of {sorted(RESNET_BLOCKS)}")
        return ResNet(block=RESNET_BLOCKS[block], **kwargs)
    if family == "efficientnet":
        return build_efficientnet(**kwargs)
    if family == "swin":
        return SwinTransformer(**kwargs)
    raise ValueError(f"family '{family}' is not one of vit, convnext, resnet, efficientnet, swin")


def build_efficientnet(arch_def, channel_multiplier=1.0, depth_multiplier=1.0, channel_divisor=8, **kwargs):
    """timm's EfficientNet as _gen_efficientnet sets it up: the arch_def decoded with the depth multiplier, widths
    rounded with the channel multiplier, SiLU ("swish"), BatchNorm with PyTorch's defaults. The other keyword
    arguments (stem_size, num_features, num_classes ...) go to the EfficientNet class as they are."""
    return EfficientNet(
        block_args=decode_arch_def(arch_def, depth_multiplier),
        round_chs_fn=partial(round_channels, multiplier=channel_multiplier, divisor=channel_divisor),
        act_layer=get_act_layer("swish"),
        **kwargs)


@torch.no_grad()
def perturb(model, seed):
    """Moves every floating tensor away from timm's initialization, so that norms are not ones and biases not zeros.

    Parameters first, then buffers, each in the module's own order, all from one generator seeded with `seed`.
    BatchNorm's running variance must stay positive, so it is drawn from [0.5, 1.5) instead. Non-persistent buffers
    (Swin's shift masks) are not weights: they are in no state dict, so they are left alone.
    """
    generator = torch.Generator().manual_seed(seed)
    persistent = set(model.state_dict())
    for _, parameter in model.named_parameters():
        parameter.add_(PERTURBATION_STD * torch.randn(parameter.shape, generator=generator))
    for name, buffer in model.named_buffers():
        if not buffer.is_floating_point() or name not in persistent:
            continue
        if name.endswith("running_var"):
            buffer.uniform_(0.5, 1.5, generator=generator)
        else:
            buffer.add_(PERTURBATION_STD * torch.randn(buffer.shape, generator=generator))


def uniform_indices(teacher_size, student_size):
    """The public reference's uniform rule: i*(t//s) when s divides t, else round(linspace(0, t-1, s)), half to even."""
    if student_size > teacher_size:
        raise ValueError(f"student size {student_size} is larger than teacher size {teacher_size}")
    if teacher_size % student_size == 0:
        return torch.arange(student_size) * (teacher_size // student_size)
    return torch.from_numpy(np.round(np.linspace(0, teacher_size - 1, student_size)).astype(np.int64))


def axis_indices(key, axis, teacher_size, student_size):
    """Indices of one axis. A fused axis takes the same indices in each of its blocks: ViT's and Swin's qkv axis holds
    q, k and v (three blocks of the inner width); Swin's patch merging concatenates the 2x2 neighbours, so its norm and
    its reduction's input axis hold four blocks of the previous stage's width."""
    blocks = 1
    if axis == 0 and key.endswith(("attn.qkv.weight", "attn.qkv.bias")):
        blocks = 3
    elif (axis == 0 and key.endswith(("downsample.norm.weight", "downsample.norm.bias"))) or \
            (axis == 1 and key.endswith("downsample.reduction.weight")):
        blocks = 4
    if blocks == 1:
        return uniform_indices(teacher_size, student_size)
    if teacher_size % blocks or student_size % blocks:
        raise ValueError(f"{key}: axis {axis} sizes {teacher_size} and {student_size} are not multiples of {blocks}")
    inner = uniform_indices(teacher_size // blocks, student_size // blocks)
    return torch.cat([part * (teacher_size // blocks) + inner for part in range(blocks)])


def select_weights(teacher_state, student_state, classifier_keys):
    """Weight selection of the student's state dict from the teacher's.

    First-N layer selection gives student block i the teacher's block i (inside each stage for ConvNeXt, ResNet
    and EfficientNet), so a student key names its teacher tensor as it is. Every axis takes uniform indices, which depend
    only on the two sizes, so tensors sharing a width share their indices. The classifier keeps the student's
    own initialization; scalar buffers (num_batches_tracked) are copied.
    """
    selected = {}
    for key, student_tensor in student_state.items():
        if key in classifier_keys:
            selected[key] = student_tensor.clone()
            continue
        if key not in teacher_state:
            raise KeyError(f"student key '{key}' has no tensor in the teacher")
        teacher_tensor = teacher_state[key]
        if teacher_tensor.dim() != student_tensor.dim():
            raise ValueError(f"{key}: teacher shape {tuple(teacher_tensor.shape)} and student shape "
                             f"{tuple(student_tensor.shape)} differ in rank")
        result = teacher_tensor
        for axis, (t, s) in enumerate(zip(teacher_tensor.shape, student_tensor.shape)):
            if t != s:
                result = result.index_select(axis, axis_indices(key, axis, t, s))
        selected[key] = result.clone()
    return selected


def safetensors_bytes(tensors):
    """A safetensors file: sorted keys, compact JSON header padded with spaces to 8 bytes, then the data in key order."""
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        tensor = tensors[key].detach().contiguous()
        if tensor.dtype not in SAFETENSORS_DTYPES:
            raise ValueError(f"{key}: dtype {tensor.dtype} is not one this writer handles")
        blob = tensor.numpy().astype(tensor.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": SAFETENSORS_DTYPES[tensor.dtype], "shape": list(tensor.shape),
                       "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


def write_atomically(path, data):
    """Writes to a temporary file beside `path` and renames it, so a failed run leaves no partial file."""
    temporary = path + ".partial"
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@torch.no_grad()
def make_case(case):
    """The three files of one case, as {file name: bytes}.

    Seeds: the case's seed initializes both models (teacher first) and perturbs the teacher; seed + 1 perturbs
    the student; seed + 2 draws the images.
    """
    seed = case["seed"]
    torch.manual_seed(seed)
    teacher = build_model(case["family"], case["teacher"])
    student = build_model(case["family"], case["student"])
    perturb(teacher, seed)
    perturb(student, seed + 1)

    teacher_state = teacher.state_dict()
    selected = select_weights(teacher_state, student.state_dict(), set(case["classifier_keys"]))
    student.load_state_dict(selected, strict=True)

    size = case["image_size"]
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(seed + 2))
    teacher.eval()
    student.eval()
    io = {"x": x, "teacher_logits": teacher(x), "student_logits": student(x)}

    files = case["files"]
    return {files["teacher"]: safetensors_bytes(teacher_state),
            files["student"]: safetensors_bytes(selected),
            files["io"]: safetensors_bytes(io)}


def timm_commit():
    """The git commit of timm's source when it is a git checkout, else None."""
    try:
        result = subprocess.run(["git", "-C", os.path.dirname(timm.__file__), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True)
        return result.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_capability():
    """The kernel set torch dispatches to, as its build configuration reports it (AVX2, AVX512, NO AVX ...)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", default=os.path.join(HERE, "manifest.json"),
                        help="the cases to make (default: manifest.json beside this script)")
    parser.add_argument("--out", default=HERE, help="folder for the files and the updated manifest (default: beside this script)")
    args = parser.parse_args()

    with open(args.manifest, encoding="utf-8") as file:
        manifest = json.load(file)
    for index, case in enumerate(manifest["cases"]):
        for field in ("name", "family", "seed", "teacher", "student", "image_size", "classifier_keys", "files"):
            if field not in case:
                raise SystemExit(f"{args.manifest}: case {index} has no '{field}'")

    capability = cpu_capability()
    if capability != "AVX2":
        raise SystemExit(f"torch runs with CPU capability {capability} (ATEN_CPU_CAPABILITY="
                         f"{os.environ.get('ATEN_CPU_CAPABILITY')}); the golden files are made with AVX2, "
                         "which needs an x86-64 CPU with AVX2 and ATEN_CPU_CAPABILITY unset or avx2")
    commit = timm_commit()
    if commit is None:
        print(f"warning: timm at {os.path.dirname(timm.__file__)} is not a git checkout; its commit is not recorded",
              file=sys.stderr)

    # One thread: the logits' last bits then do not depend on how many cores the machine has.
    torch.set_num_threads(1)
    outputs = {}
    for case in manifest["cases"]:
        outputs.update(make_case(case))
        print(f"{case['name']}: made", file=sys.stderr)

    manifest["generator"] = {
        "script": "make_golden.py",
        "timm": timm.__version__,
        "timm_commit": commit,
        "torch": torch.__version__,
        "cpu_capability": capability,
        "numpy": np.__version__,
    }
    os.makedirs(args.out, exist_ok=True)
    for name, data in outputs.items():
        write_atomically(os.path.join(args.out, name), data)
    write_atomically(os.path.join(args.out, "manifest.json"), json.dumps(manifest, indent=1).encode("utf-8"))
    for name in sorted(outputs):
        print(os.path.join(args.out, name))


if __name__ == "__main__":
    main()
