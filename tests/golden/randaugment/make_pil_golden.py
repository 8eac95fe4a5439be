"""Writes pil_ops.safetensors: a small uint8 batch and PIL's result for each RandAugment operation on it.

Run with Debian 12's /usr/bin/python3 (python3-pil, python3-numpy):  /usr/bin/python3 make_pil_golden.py
The operations and arguments are the ones timm's auto_augment.py calls PIL with; see README.md.
"""
import json
import struct

import numpy as np
import PIL
from PIL import Image, ImageEnhance, ImageOps

N, C, S = 2, 3, 16
FILL = (124, 116, 104)  # timm's img_mean for ImageNet's mean, rounded to 0-255

rng = np.random.default_rng(7)
rows, cols = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
batch = np.clip(40 + 5 * rows + 3 * cols + rng.integers(0, 60, size=(N, C, S, S)), 0, 255).astype(np.uint8)
images = [Image.fromarray(batch[i].transpose(1, 2, 0)) for i in range(N)]


def solarize_add(img, add, threshold=128):
    lut = [min(255, v + add) if v < threshold else v for v in range(256)]
    return img.point(lut * 3)


def affine(matrix):
    return lambda img: img.transform(img.size, Image.AFFINE, matrix, resample=Image.BILINEAR, fillcolor=FILL)


# name -> (PIL call, argument the C# test passes)
OPS = {
    "autocontrast": (ImageOps.autocontrast, 0),
    "equalize": (ImageOps.equalize, 0),
    "invert": (ImageOps.invert, 0),
    "posterize": (lambda img: ImageOps.posterize(img, 2), 2),
    "solarize": (lambda img: ImageOps.solarize(img, 100), 100),
    "solarize_add": (lambda img: solarize_add(img, 60), 60),
    "color": (lambda img: ImageEnhance.Color(img).enhance(1.81), 1.81),
    "contrast": (lambda img: ImageEnhance.Contrast(img).enhance(0.19), 0.19),
    "brightness": (lambda img: ImageEnhance.Brightness(img).enhance(1.81), 1.81),
    "sharpness": (lambda img: ImageEnhance.Sharpness(img).enhance(1.81), 1.81),
    "rotate": (lambda img: img.rotate(27, resample=Image.BILINEAR, fillcolor=FILL), 27),
    "shear_x": (affine((1, 0.27, 0, 0, 1, 0)), 0.27),
    "shear_y": (affine((1, 0, 0, -0.27, 1, 0)), -0.27),
    "translate_x": (affine((1, 0, 0.405 * S, 0, 1, 0)), 0.405),
    "translate_y": (affine((1, 0, 0, 0, 1, -0.405 * S)), -0.405),
}

tensors = {"input": batch}
for name, (op, _) in OPS.items():
    tensors[name] = np.stack([np.asarray(op(img)).transpose(2, 0, 1) for img in images]).astype(np.uint8)

# safetensors by hand: 8-byte little-endian header length, JSON header, then the raw bytes.
header, blobs, offset = {}, [], 0
for key, value in tensors.items():
    data = np.ascontiguousarray(value).tobytes()
    header[key] = {"dtype": "U8", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"pil": PIL.__version__, "numpy": np.__version__,
                          "arguments": json.dumps({k: a for k, (_, a) in OPS.items()}), "fill": json.dumps(FILL)}
encoded = json.dumps(header).encode()
with open("pil_ops.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(encoded)))
    f.write(encoded)
    for blob in blobs:
        f.write(blob)
print(f"wrote pil_ops.safetensors: {len(tensors)} tensors, PIL {PIL.__version__}, numpy {np.__version__}")
