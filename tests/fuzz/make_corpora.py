#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/.

Regenerates them: run `/usr/bin/python3 tests/fuzz/make_corpora.py` (Debian's numpy, PIL and onnx) and
commit the result. Each target's folder is emptied of generated seeds first (names starting with "seed-");
other files there (the inputs that once crashed a target, kept as regression cases, named "crash-..." or
"regress-...") are left alone. Seeds are small (a few KB) so that scripts/fuzz.sh starts fast and the
repository stays light: valid files of every kind the parsers read, and broken ones (truncated, wrong
sizes, refused kinds) so the error paths are covered from the start.
"""
import io
import os
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

CORPUS = Path(__file__).resolve().parent / "corpus"


class Writer:
    def __init__(self, target):
        self.dir = CORPUS / target
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("seed-*"):
            old.unlink()
        self.count = 0

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        (self.dir / f"seed-{name}").write_bytes(data)
        self.count += 1


# --- .npy ------------------------------------------------------------------------------------------
def npy_bytes(array, version=None):
    out = io.BytesIO()
    if version is None:
        np.save(out, array, allow_pickle=True)
    else:
        np.lib.format.write_array(out, array, version=version, allow_pickle=True)
    return out.getvalue()


def npy_raw(header, data=b"", version=(1, 0)):
    """A .npy with a hand-written header dict (what numpy would never write)."""
    text = header.encode() + b"\n"
    length = struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def make_npy():
    w = Writer("npy")
    rng = np.random.default_rng(7)
    for code in ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]:
        array = (rng.random((2, 3)) * 100).astype(code)
        w.add(f"{code}", npy_bytes(array))
    w.add("f4-scalar", npy_bytes(np.float32(1.5)))
    w.add("f4-empty", npy_bytes(np.zeros((0, 4), np.float32)))
    w.add("i8-vector", npy_bytes(np.arange(5, dtype=np.int64)))
    w.add("f4-4d", npy_bytes(rng.random((1, 3, 2, 2)).astype(np.float32)))
    for code in [">f4", ">i8", ">u2", ">f2", ">f8"]:
        w.add(f"big-{code[1:]}", npy_bytes(np.arange(6).reshape(2, 3).astype(code)))
    w.add("bool-nonzero", npy_raw("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\x00\x02\xff"))
    w.add("unicode", npy_bytes(np.array(["cat", "dog", "été"], dtype="<U5")))
    w.add("unicode-big", npy_bytes(np.array(["ab", "ç"], dtype=">U3")))
    w.add("unicode-2d", npy_bytes(np.array([["a", ""], ["xyz", "€"]], dtype="<U3")))
    w.add("unicode-bad-unit", npy_raw("{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }", b"\x00\xd8\x00\x00"))
    w.add("unicode-zero-width", npy_raw("{'descr': '<U0', 'fortran_order': False, 'shape': (2,), }"))
    w.add("object", npy_bytes(np.array([1, "a", None], dtype=object)))
    w.add("bytes", npy_bytes(np.array([b"ab", b"c"], dtype="|S2")))
    w.add("fortran", npy_bytes(np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))))
    w.add("structured", npy_bytes(np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")])))
    w.add("complex", npy_bytes(np.zeros(2, dtype=np.complex64)))
    w.add("datetime", npy_bytes(np.zeros(2, dtype="datetime64[s]")))
    w.add("v2", npy_bytes(np.arange(4, dtype=np.int32), version=(2, 0)))
    w.add("v3-unicode", npy_bytes(np.array(["ü"], dtype="<U1"), version=(3, 0)))
    w.add("python2-long", npy_raw("{'descr': '<i2', 'fortran_order': False, 'shape': (2L,), }", b"\x01\x00\x02\x00"))
    w.add("double-quotes", npy_raw('{"descr": "<u1", "fortran_order": False, "shape": (2,)}', b"\x01\x02"))
    w.add("huge-shape", npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
    w.add("negative-dim", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))
    w.add("huge-unicode", npy_raw("{'descr': '<U262144', 'fortran_order': False, 'shape': (99999999999,), }"))
    valid = npy_bytes(np.arange(12, dtype=np.float32).reshape(3, 4))
    w.add("truncated-header", valid[:30])
    w.add("truncated-data", valid[:-5])
    w.add("trailing-bytes", valid + b"\x00\x00\x00\x00")
    w.add("magic-only", valid[:8])
    w.add("bad-version", valid[:6] + b"\x04\x00" + valid[8:])
    return w.count


# --- ONNX TensorProto ------------------------------------------------------------------------------
def make_tensor_pb():
    w = Writer("tensor_pb")
    rng = np.random.default_rng(11)
    for dtype in [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                  np.uint32, np.uint64, np.bool_]:
        array = (rng.random((2, 3)) * 50).astype(dtype)
        name = np.dtype(dtype).name
        w.add(f"raw-{name}", numpy_helper.from_array(array, name=f"x_{name}").SerializeToString())
    typed = [
        (TensorProto.FLOAT, [1.5, -2.0, 3.25]),
        (TensorProto.DOUBLE, [1.0, 2.0, 3.0]),
        (TensorProto.INT32, [1, -2, 3]),
        (TensorProto.INT64, [1, -2, 3]),
        (TensorProto.INT8, [1, -2, 127]),
        (TensorProto.UINT8, [0, 255, 3]),
        (TensorProto.INT16, [-32768, 0, 32767]),
        (TensorProto.UINT16, [0, 65535, 7]),
        (TensorProto.UINT32, [0, 4294967295, 7]),
        (TensorProto.UINT64, [0, 18446744073709551615, 7]),
        (TensorProto.BOOL, [True, False, True]),
        (TensorProto.FLOAT16, [0x3C00, 0xBC00, 0x7E00]),
        (TensorProto.BFLOAT16, [0x3F80, 0xBF80, 0x7FC0]),
    ]
    for code, values in typed:
        name = TensorProto.DataType.Name(code).lower()
        tensor = helper.make_tensor(f"t_{name}", code, [3], values, raw=False)
        if code in (TensorProto.FLOAT16, TensorProto.BFLOAT16):
            del tensor.int32_data[:]
            tensor.int32_data.extend(values)
        w.add(f"typed-{name}", tensor.SerializeToString())
    strings = helper.make_tensor("s", TensorProto.STRING, [2, 2], [b"a", b"", b"\xc3\xa9", b"long string"])
    w.add("string", strings.SerializeToString())
    w.add("scalar", numpy_helper.from_array(np.array(4.0, dtype=np.float32)).SerializeToString())
    w.add("empty", numpy_helper.from_array(np.zeros((0, 3), np.float32), name="e").SerializeToString())
    w.add("unnamed", numpy_helper.from_array(np.arange(3, dtype=np.int64)).SerializeToString())
    bad = helper.make_tensor("r", TensorProto.INT8, [2], [1, 300], raw=False)
    w.add("out-of-range", bad.SerializeToString())
    wrong = numpy_helper.from_array(np.arange(6, dtype=np.float32))
    wrong.dims[:] = [7]
    w.add("wrong-size", wrong.SerializeToString())
    ext = numpy_helper.from_array(np.arange(3, dtype=np.float32), name="ext")
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="weights.bin")
    w.add("external", ext.SerializeToString())
    seg = numpy_helper.from_array(np.arange(3, dtype=np.float32), name="seg")
    seg.segment.begin = 0
    seg.segment.end = 3
    w.add("segment", seg.SerializeToString())
    both = numpy_helper.from_array(np.arange(3, dtype=np.float32), name="both")
    both.float_data.extend([1.0, 2.0, 3.0])
    w.add("raw-and-typed", both.SerializeToString())
    mixed = helper.make_tensor("m", TensorProto.FLOAT, [1], [1.0], raw=False)
    mixed.int64_data.append(5)
    w.add("other-field", mixed.SerializeToString())
    undefined = TensorProto(name="u", dims=[1])
    w.add("undefined", undefined.SerializeToString())
    complex_ = TensorProto(name="c", dims=[1], data_type=TensorProto.COMPLEX64, float_data=[1.0, 2.0])
    w.add("complex", complex_.SerializeToString())
    huge = TensorProto(name="h", dims=[1 << 40, 1 << 40], data_type=TensorProto.FLOAT)
    w.add("huge-dims", huge.SerializeToString())
    negative = TensorProto(name="n", dims=[-3], data_type=TensorProto.FLOAT)
    w.add("negative-dim", negative.SerializeToString())
    full = numpy_helper.from_array(np.arange(8, dtype=np.int32), name="cut").SerializeToString()
    w.add("truncated", full[:-7])
    w.add("garbage", b"\xff\xff\xff\xff\x0f")
    return w.count


# --- images ----------------------------------------------------------------------------------------
def trailer(flags, height, width, shorter, mean=128 + 32, std=(15, 14, 14)):
    """The 8 option bytes image_fuzz.cpp reads from the end of its input."""
    return bytes([flags, height, width, shorter, mean, *std])


def gradient(width, height, mode):
    base = Image.new("RGB", (width, height))
    base.putdata([((x * 40) % 256, (y * 60) % 256, ((x + y) * 25) % 256) for y in range(height) for x in range(width)])
    return base.convert(mode)


def encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def make_image():
    w = Writer("image")
    options = [
        trailer(0x00, 7, 5, 0),  # float32 NCHW, automatic S
        trailer(0x13, 4, 6, 9),  # float16 NHWC BGR, S 9
        trailer(0x24, 5, 5, 0),  # uint8 NCHW, plain resize
        trailer(0x28, 9, 3, 4),  # uint8 NCHW without batch dim
        trailer(0x30, 3, 3, 0),  # int32: refused
        trailer(0x00, 2, 2, 0, std=(0, 10, 10)),  # std 0: refused
    ]
    seeds = [
        ("jpeg-rgb", encoded(gradient(8, 6, "RGB"), "JPEG", quality=80)),
        ("jpeg-gray", encoded(gradient(7, 5, "L"), "JPEG")),
        ("jpeg-cmyk", encoded(gradient(6, 6, "CMYK"), "JPEG")),
        ("jpeg-progressive", encoded(gradient(9, 7, "RGB"), "JPEG", progressive=True)),
        ("jpeg-420", encoded(gradient(10, 6, "RGB"), "JPEG", subsampling=2)),
        ("jpeg-exif6", encoded(gradient(8, 4, "RGB"), "JPEG", exif=exif_with_orientation(6))),
        ("jpeg-exif3", encoded(gradient(5, 3, "RGB"), "JPEG", exif=exif_with_orientation(3))),
        ("jpeg-exif8", encoded(gradient(4, 6, "RGB"), "JPEG", exif=exif_with_orientation(8))),
        ("jpeg-exif2", encoded(gradient(4, 6, "RGB"), "JPEG", exif=exif_with_orientation(2))),
        ("png-rgb", encoded(gradient(8, 6, "RGB"), "PNG")),
        ("png-gray", encoded(gradient(5, 7, "L"), "PNG")),
        ("png-rgba", encoded(gradient(6, 5, "RGBA"), "PNG")),
        ("png-la", encoded(gradient(4, 4, "LA"), "PNG")),
        ("png-palette", encoded(gradient(6, 6, "P"), "PNG")),
        ("png-1bit", encoded(gradient(9, 3, "1"), "PNG")),
        ("png-gray16", encoded(gradient(5, 5, "L").convert("I;16"), "PNG")),
        ("png-exif6", encoded(gradient(8, 4, "RGB"), "PNG", exif=exif_with_orientation(6))),
        ("png-exif5", encoded(gradient(3, 5, "RGBA"), "PNG", exif=exif_with_orientation(5))),
        ("png-exif7", encoded(gradient(6, 2, "L"), "PNG", exif=exif_with_orientation(7))),
        ("png-1x1", encoded(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG")),
        ("jpeg-1x40", encoded(gradient(1, 40, "RGB"), "JPEG")),
    ]
    for k, (name, data) in enumerate(seeds):
        w.add(name, data + options[k % len(options)])
    rgb = encoded(gradient(8, 6, "RGB"), "JPEG")
    png = encoded(gradient(8, 6, "RGB"), "PNG")
    w.add("jpeg-truncated", rgb[: len(rgb) // 2] + options[0])
    w.add("png-truncated", png[: len(png) - 20] + options[1])
    w.add("png-header-only", png[:33] + options[2])
    w.add("neither", b"GIF89a\x01\x00\x01\x00" + options[0])
    w.add("empty", options[0])
    return w.count


# --- journal ---------------------------------------------------------------------------------------
IDENTITY = '{"model":{"path":"m.onnx","size":1234},"source":{"random":8}}'


def journal(items, lines, flags=0, given_items=None, identity=IDENTITY, magic="onnxpool-journal 1"):
    given = items if given_items is None else given_items
    head = bytes([flags, given & 0xFF, (given >> 8) & 0xFF])
    text = f"{magic}\n" + '{"identity":' + identity + f',"items":{items}}}\n' + "".join(lines)
    return head + text.encode()


def fail(index, name="img.jpg", worker="cpu#0", cause="input 'x': bad"):
    return 'fail {"cause":"%s","index":%d,"name":"%s","worker":"%s"}\n' % (cause, index, name, worker)


def make_journal():
    w = Writer("journal")
    w.add("fresh", journal(8, []))
    w.add("done", journal(8, ["done 0-3\n", "done 5\n"]))
    w.add("done-all", journal(8, ["done 0-7\n"], flags=3))
    w.add("fail", journal(8, ["done 0-2\n", fail(3), "done 4-7\n"]))
    w.add("fail-twice", journal(8, [fail(3), fail(1, cause="again"), fail(3, worker="cpu#1")], flags=1))
    w.add("torn", journal(8, ["done 0-1\n", "done 2-"]))
    w.add("torn-fail", journal(8, ["done 0\n", 'fail {"index":1,"na']))
    w.add("own-identity", journal(4, ["done 0-3\n"], flags=3, identity='{"a":[1,2,{"b":null}],"c":"d"}'))
    w.add("other-identity", journal(8, ["done 0\n"], identity='{"model":{"path":"m.onnx","size":99},"source":{}}'))
    w.add("other-items", journal(8, ["done 0\n"], given_items=9))
    w.add("past-end", journal(8, ["done 6-8\n"]))
    w.add("backwards", journal(8, ["done 5-2\n"]))
    w.add("bad-index", journal(8, ["done x\n"]))
    w.add("fail-past-end", journal(8, [fail(8)]))
    w.add("fail-float-index", journal(8, ['fail {"cause":"c","index":2.5,"name":"n","worker":"w"}\n']))
    w.add("fail-missing-key", journal(8, ['fail {"index":2,"name":"n"}\n']))
    w.add("fail-not-object", journal(8, ["fail [1,2]\n"]))
    w.add("unknown-record", journal(8, ["skip 3\n"]))
    w.add("crlf", journal(8, ["done 0-1\r\n"]))
    w.add("bad-magic", journal(8, [], magic="onnxpool-journal 2"))
    w.add("no-identity", bytes([0, 8, 0]) + b"onnxpool-journal 1\n")
    w.add("identity-not-json", bytes([0, 8, 0]) + b'onnxpool-journal 1\n{"items":8,\n')
    w.add("empty", bytes([0, 8, 0]))
    w.add("big", journal(1000, [f"done {i * 10}-{i * 10 + 8}\n" for i in range(100)] + [fail(999)], flags=2))
    return w.count


# --- grammars --------------------------------------------------------------------------------------
GRAMMARS = {
    0: ["cpu", "cpu:4", "cuda:0", "cuda:0*2", "cuda:1@32", "cpu,cuda:0,cuda:1", "cpu:2*3@8", "gpu:0", "tpu:0",
        "cpu:0", "cpu,,cuda", "cuda:-1", "cpu*99999999999", ""],
    1: ["workers=1,2,4", "threads=1-4", "batch=1..8", "batch=1,4-6", "policy=static,dynamic", "pin=on,off",
        "threads=4-1", "workers=0", "cores=1", "workers=", "=1", "workers=1,,2", "batch=4096"],
    2: ["batch_size=8", "N=1", "seq=0", "x=-1", "=3", "noequals", "big=99999999999999999999"],
    3: ["x:1,3,640,640", "ids:", "a:b:2", ":1", "x:1,,2", "x:1,-2"],
    4: ["x=input.npy", "ids=data/ids.pb", "=a.npy", "x=", "noequals", "a=b=c.npy"],
    5: ["x=rows.npy", "x=", "=rows.npy"],
    6: ["a.jpg\nb.jpg\n", "# comment\n\n/abs/c.png\r\nrel/d.png", "\n\n", "#only\n", "x"],
    7: ["cat\ndog\nbird\n", "a\r\nb\r\n", "", "\n", "tench\ngoldfish"],
    8: ["float32", "float", "tensor(float)", "tensor(int64)", "bfloat16", "string", "undefined", "tensor(", "int4"],
    9: ["static", "dynamic", "Dynamic", ""],
    10: ['{"onnxpool_config":1,"workers":2,"threads":1,"batch":1,"policy":"dynamic"}',
         '{"onnxpool_config":1,"workers":0,"threads":0,"batch":4,"policy":"static","tuned":{"model":"m.onnx",'
         '"cpus":2,"cpu_model":"AMD EPYC","items_per_s":214.0,"p50_ms":9.3,"by":"onnxpool bench --grid workers=1,2"}}',
         '{"onnxpool_config":2}', '{"workers":1}', "[]", '{"onnxpool_config":1,"workers":-1}', "{",
         '{"onnxpool_config":1,"workers":1,"threads":1,"batch":1,"policy":"fast"}'],
}


def make_grammars():
    w = Writer("grammars")
    for selector, texts in GRAMMARS.items():
        for k, text in enumerate(texts):
            w.add(f"{selector}-{k}", bytes([selector]) + text.encode())
    return w.count


def main():
    counts = {
        "npy": make_npy(),
        "tensor_pb": make_tensor_pb(),
        "image": make_image(),
        "journal": make_journal(),
        "grammars": make_grammars(),
    }
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    for target, count in counts.items():
        print(f"{target}: {count} seeds")
    print(f"corpus: {total} bytes in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
