#pragma once
// Test images written by PIL (python3-pil) into a test's folder, with what PIL itself decodes each to
// (ImageOps.exif_transpose, then convert("RGB")) as <name>.expected.npy: a reference that is not ours.
#include <string>

#include "support/python_fixture.hpp"

namespace onnxpool::test {

// Writes, into the current folder:
//   valid images: rgb.png, grey.png, grey1.png (1 bit), grey16.png, rgb16.png (16 bits per sample,
//   written by hand), palette.png, la.png (grey + alpha), rgba.png, rgb.jpg, grey.jpg, cmyk.jpg,
//   orient<K>.png and orient<K>.jpg for the EXIF orientations K = 1..8, each with <name>.expected.npy
//   (uint8 [H,W,3]); base.npy, the 4-wide, 3-tall pattern the orient* files hold before their turn;
//   bad files: truncated.jpg (in its scan), headless.jpg (in its headers), truncated.png, garbage.jpg, empty.png,
//   huge.png and huge.jpg (headers declaring 100000 x 100000 and 65000 x 65000 pixels).
inline constexpr const char* kImageFixturesScript = R"PY(
import io, struct, zlib
import numpy as np
from PIL import Image, ImageOps

def save(img, name, **kw):
    img.save(name, **kw)
    ref = ImageOps.exif_transpose(Image.open(name)).convert("RGB")
    np.save(name + ".expected.npy", np.asarray(ref, dtype=np.uint8))

rng = np.random.default_rng(7)
# Smooth-ish content so that JPEG keeps it recognisable; 40 x 30 pixels.
yy, xx = np.mgrid[0:30, 0:40]
rgb = np.stack([xx * 6, yy * 8, (xx + yy) * 3], axis=-1).astype(np.uint8)
save(Image.fromarray(rgb), "rgb.png")
save(Image.fromarray(rgb[..., 0]), "grey.png")
save(Image.fromarray(rgb[..., 0] > 100), "grey1.png")
save(Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16), "palette.png")
save(Image.fromarray(np.dstack([rgb[..., 0], rgb[..., 1]]), "LA"), "la.png")
save(Image.fromarray(np.dstack([rgb, rgb[..., :1]]), "RGBA"), "rgba.png")
save(Image.fromarray(rgb), "rgb.jpg", quality=95)
save(Image.fromarray(rgb[..., 1]), "grey.jpg", quality=95)
save(Image.fromarray(rgb).convert("CMYK"), "cmyk.jpg", quality=95)

# 16 bits per sample: PIL writes grey ("I;16"); RGB 16-bit is written here chunk by chunk.
grey16 = (rgb[..., 0].astype(np.uint16) * 257 + 100).astype(np.uint16)
Image.fromarray(grey16, "I;16").save("grey16.png")
np.save("grey16.png.expected.npy", np.repeat((grey16 >> 8).astype(np.uint8)[..., None], 3, axis=2))
rgb16 = (rgb.astype(np.uint16) * 257 + 3).astype(">u2")
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
raw = b"".join(b"\0" + row.tobytes() for row in rgb16)
with open("rgb16.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
np.save("rgb16.png.expected.npy", (rgb16 >> 8).astype(np.uint8))

# EXIF orientations of an asymmetric pattern, 4 wide and 3 tall, each pixel its own colour; the JPEG
# ones scaled up 8x (blocks of one colour survive JPEG) .
base = np.zeros((3, 4, 3), np.uint8)
for y in range(3):
    for x in range(4):
        base[y, x] = (20 + 60 * x, 30 + 90 * y, 200 - 15 * (4 * y + x))
np.save("base.npy", base)
for k in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = k
    save(Image.fromarray(base), f"orient{k}.png", exif=exif.tobytes())
    big = np.repeat(np.repeat(base, 8, axis=0), 8, axis=1)
    save(Image.fromarray(big), f"orient{k}.jpg", quality=100, exif=exif.tobytes())

good_jpg = open("rgb.jpg", "rb").read()
good_png = open("rgb.png", "rb").read()
sos = good_jpg.find(b"\xff\xda")  # the scan: cut in the middle of the compressed pixels
open("truncated.jpg", "wb").write(good_jpg[: sos + (len(good_jpg) - sos) // 2])
open("headless.jpg", "wb").write(good_jpg[:100])
open("truncated.png", "wb").write(good_png[: len(good_png) // 2])
open("garbage.jpg", "wb").write(b"this is not an image\n")
open("empty.png", "wb").write(b"")
open("huge.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                             + chunk(b"IEND", b""))
# A real JPEG whose frame header (SOF0) is made to declare 65000 x 65000.
data = bytearray(good_jpg)
sof = data.find(b"\xff\xc0")
data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
open("huge.jpg", "wb").write(bytes(data))
print("ok")
)PY";

}  // namespace onnxpool::test
