#!/usr/bin/python3
"""Reference approach to weight selection in PyTorch, the baseline of the selection benchmark (bench/README.md).

Loads the teacher's whole state dict into memory, then index_selects every student tensor out of it (first-N layers:
student keys take the teacher tensor of the same name; uniform element selection on every axis whose size differs,
axis by axis, as the paper's public code does), and writes the student as safetensors. The safetensors file is read
without the safetensors package (not in Debian): the header is parsed with json/struct and the data section is read
into one buffer that torch.frombuffer views without copying, which is the cheapest way to hold the whole state dict.

Run with Debian's PyTorch:
  /usr/bin/python3 bench/python/select_baseline.py --teacher T.safetensors --shapes student.shapes.json --out S.safetensors
student.shapes.json is a JSON list of [key, shape] in the student's order (the C# benchmark writes it).
Prints one line "RESULT {json}" with the phase times and the process's peak resident memory (VmHWM).
"""
import argparse
import json
import struct
import time

T0 = time.perf_counter()
import torch  # noqa: E402  (timed: importing torch is part of this process's start-up)

T_IMPORT = time.perf_counter() - T0

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


def load_state_dict(path):
    """The whole file in memory; each tensor a zero-copy view of it."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        size = max(e["data_offsets"][1] for e in header.values())
        data = bytearray(size)
        view = memoryview(data)
        got = 0
        while got < size:
            r = f.readinto(view[got:])
            if not r:
                raise EOFError(f"{path}: data section ends at {got} of {size} bytes")
            got += r
    state = {}
    for key, e in header.items():
        begin, end = e["data_offsets"]
        dtype = DTYPES[e["dtype"]]
        t = torch.frombuffer(data, dtype=dtype, count=(end - begin) // torch.tensor([], dtype=dtype).element_size(), offset=begin)
        state[key] = t.view(e["shape"])
    return state, data


def uniform_indices(t, s):
    """The paper's uniform rule: i * (t / s) when s divides t, else round(linspace(0, t - 1, s)) (half to even)."""
    if t % s == 0:
        return torch.arange(0, t, t // s, dtype=torch.long)
    return torch.round(torch.linspace(0, t - 1, s, dtype=torch.float64)).long()


def select(state, shapes):
    student = {}
    for key, shape in shapes:
        if key not in state:
            raise KeyError(f"teacher has no tensor '{key}' for the student")
        w = state[key]
        if w.dim() != len(shape):
            raise ValueError(f"'{key}': teacher has {w.dim()} axes, student {len(shape)}")
        for axis, (t, s) in enumerate(zip(w.shape, shape)):
            if s > t:
                raise ValueError(f"'{key}' axis {axis}: student {s} > teacher {t}")
            if s != t:
                w = torch.index_select(w, axis, uniform_indices(t, s))
        student[key] = w.contiguous() if w.data_ptr() != state[key].data_ptr() else w.clone()
    return student


def save(path, tensors):
    header, offset = {}, 0
    for key, t in tensors.items():
        n = t.numel() * t.element_size()
        header[key] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for t in tensors.values():
            f.write(t.contiguous().numpy().tobytes())
    import os
    os.replace(tmp, path)


def vm_hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--teacher", required=True)
    p.add_argument("--shapes", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.shapes) as f:
        shapes = json.load(f)
    phases, phases_cpu = {"import_torch": T_IMPORT}, {}
    start = time.perf_counter()
    clock = [time.perf_counter(), time.process_time()]

    def lap(name):
        now = [time.perf_counter(), time.process_time()]
        phases[name], phases_cpu[name] = now[0] - clock[0], now[1] - clock[1]
        clock[:] = now

    state, _data = load_state_dict(a.teacher)
    lap("load_state_dict")
    student = select(state, shapes)
    lap("select")
    save(a.out, student)
    lap("write_student")
    print("RESULT " + json.dumps({
        "framework": "pytorch " + torch.__version__,
        "student_tensors": len(student),
        "student_bytes": sum(v.numel() * v.element_size() for v in student.values()),
        "in_process_seconds": time.perf_counter() - start,
        "phases": phases,
        "phases_cpu": phases_cpu,
        "process_cpu_seconds": time.process_time(),
        "vm_hwm_bytes": vm_hwm(),
    }), flush=True)


if __name__ == "__main__":
    main()
