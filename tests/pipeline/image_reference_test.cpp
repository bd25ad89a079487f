// `run --images` against an independent reference in numpy: PIL writes JPEG and PNG images of several
// sizes and aspect ratios; the CLI runs identity models over them (so the stacked output is exactly what
// the model was fed); numpy redoes the preprocessing (PIL decodes; its own triangle-filter resize; crop;
// normalise) and the two must agree within the tolerances below. The numpy resize is itself checked
// against PIL's Image.resize(BILINEAR) on the same pixels.
//
// Tolerances, and why:
//   - PNG, float inputs: 1e-4. The same pixels go in; only float32 (here) against float64 (numpy)
//     arithmetic differs, about 1e-5 after dividing by a std of ~0.22.
//   - JPEG, float inputs: 0.035, two levels of 255 over the smallest std (2 / 255 / 0.224): decoders
//     may round the IDCT differently by a level or two. Here PIL and onnxpool both use Debian's
//     libjpeg-turbo with the same settings, so the measured difference is that of PNG (printed).
//   - uint8 inputs: 1 level (PNG) or 2 (JPEG), in at most 0.5% of the values: a value within float
//     rounding of a half may round either way (measured: 0.002% to 0.07% of them, by one level).
//   - numpy's resize against PIL's: 1e-3 on float images (PIL's mode "F", computed in float32), and
//     1 level on 8-bit RGB, which PIL rounds to 8 bits between its horizontal and vertical passes.
#include <gtest/gtest.h>

#include <string>

#include "support/model_paths.hpp"
#include "support/python_fixture.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

constexpr const char* kReferenceScript = R"PY(
import json, os, subprocess, sys
import numpy as np
from PIL import Image, ImageOps

cli, models = sys.argv[1], sys.argv[2]
os.makedirs("images")
rng = np.random.default_rng(3)

def content(h, w):
    """Smooth gradients plus noise and a few sharp edges: something a resize can get wrong."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 100 * np.sin(xx / 17.0), 128 + 100 * np.cos(yy / 11.0), (xx + 2 * yy) % 256], axis=-1)
    img += rng.normal(0, 12, img.shape)
    img[h // 3: h // 2, w // 4: w // 2] = (250, 10, 60)
    return np.clip(img, 0, 255).astype(np.uint8)

specs = [  # name, width, height, what
    ("a_landscape.jpg", 500, 375, "RGB"), ("b_portrait.png", 300, 421, "RGB"), ("c_exact.png", 224, 224, "RGB"),
    ("d_small.jpg", 50, 61, "RGB"), ("e_odd.png", 259, 330, "RGB"), ("f_grey.png", 333, 250, "L"),
    ("g_strip.png", 900, 120, "RGB"), ("h_rotated.jpg", 320, 240, "RGB")]
for name, w, h, mode in specs:
    img = Image.fromarray(content(h, w))
    if mode == "L":
        img = img.convert("L")
    if name.startswith("h_"):
        exif = Image.Exif()
        exif[0x0112] = 6  # stored on its side: upright it is 240 wide, 320 tall
        img.save(os.path.join("images", name), quality=90, exif=exif.tobytes())
    elif name.endswith(".jpg"):
        img.save(os.path.join("images", name), quality=90)
    else:
        img.save(os.path.join("images", name))
names = sorted(os.listdir("images"))

def decoded(name):
    return np.asarray(ImageOps.exif_transpose(Image.open(os.path.join("images", name))).convert("RGB"), np.float64)

# --- the reference, in numpy -------------------------------------------------------------------------
def weights(in_size, out_size):
    """[out, in]: row i holds the triangle filter centred on output i, stretched by the scale when shrinking."""
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        centre = (i + 0.5) * scale
        lo = max(int(centre - stretch + 0.5), 0)
        hi = min(int(centre + stretch + 0.5), in_size)
        x = np.arange(lo, hi)
        w = np.clip(1.0 - np.abs((x + 0.5 - centre) / stretch), 0.0, None)
        m[i, lo:hi] = w / w.sum()
    return m

def resize(img, w, h):
    across = np.einsum("ox,yxc->yoc", weights(img.shape[1], w), img)
    return np.einsum("oy,yxc->oxc", weights(img.shape[0], h), across)

def reference(img, height, width, shorter=None, plain=False):
    ih, iw = img.shape[:2]
    if plain:
        return resize(img, width, height)
    s = shorter or round(max(height, width) / 0.875)
    if iw <= ih:
        rw, rh = s, int(s * ih / iw)
    else:
        rw, rh = int(s * iw / ih), s
    r = resize(img, rw, rh)
    top, left = int(round((rh - height) / 2.0)), int(round((rw - width) / 2.0))
    return r[top:top + height, left:left + width]

# --- the numpy resize against PIL's ------------------------------------------------------------------
worst_f, worst_8 = 0.0, 0
for name in names:
    img = decoded(name)
    w, h = (img.shape[1] * 3) // 5 + 1, (img.shape[0] * 7) // 4  # shrink one side, enlarge the other
    ours = resize(img, w, h)
    pil_f = np.stack([np.asarray(Image.fromarray(img[..., c].astype(np.float32), "F").resize((w, h), Image.BILINEAR))
                      for c in range(3)], axis=-1)
    worst_f = max(worst_f, float(np.abs(ours - pil_f).max()))
    pil_8 = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((w, h), Image.BILINEAR), np.int32)
    worst_8 = max(worst_8, int(np.abs(np.floor(ours + 0.5).astype(np.int32) - pil_8).max()))
print(f"numpy resize vs PIL: float max |diff| {worst_f:.2e} (tolerance 1e-3), 8-bit {worst_8} levels (tolerance 1)")
assert worst_f <= 1e-3 and worst_8 <= 1

# --- onnxpool run against the reference --------------------------------------------------------------
def run(model, out, *flags):
    cmd = [cli, "run", os.path.join(models, model), "--images", "images", "--output", out, "-q", *flags]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.returncode} {done.stderr}"
    return np.load(os.path.join(out, "pixels.npy"))

imagenet_mean, imagenet_std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
failed = []
def check(label, got, want, png_tol, jpeg_tol):
    for i, name in enumerate(names):
        diffs = np.abs(got[i].astype(np.float64) - want[i])
        diff, share = float(diffs.max()), float((diffs > 1e-6).mean()) if got.dtype == np.uint8 else None
        tol = jpeg_tol if name.endswith(".jpg") else png_tol
        shown = "" if share is None else f", {share:.1e} of the values differ (tolerance 5e-3)"
        print(f"{label} {name}: max |diff| {diff:.2e} (tolerance {tol:g}){shown}")
        if not diff <= tol or (share is not None and share > 5e-3):
            failed.append(f"{label} {name}: {diff} > {tol} or {share} of the values differ")

# A: float32 NCHW 224x224, the defaults: shorter side 256, center crop 224, ImageNet mean/std, RGB.
got = run("image_identity.onnx", "out_a")
assert got.shape == (len(names), 3, 224, 224), got.shape
want = [((reference(decoded(n), 224, 224) / 255 - imagenet_mean) / imagenet_std).transpose(2, 0, 1) for n in names]
check("A float32 NCHW default", got, want, 1e-4, 0.035)

# B: uint8 NHWC 200 high, 160 wide, shorter side 230, BGR: the raw pixels, rounded half up (as PIL).
got = run("image_identity_nhwc.onnx", "out_b", "--dim", "height=200", "--dim", "width=160", "--shorter-side", "230",
          "--bgr")
assert got.shape == (len(names), 200, 160, 3) and got.dtype == np.uint8, (got.shape, got.dtype)
want = [np.floor(reference(decoded(n), 200, 160, shorter=230) + 0.5)[..., ::-1] for n in names]
check("B uint8 NHWC BGR", got, want, 1, 2)

# C: a plain resize to 224x224 with another mean and std.
got = run("image_identity.onnx", "out_c", "--resize", "--mean", "0.5,0.4,0.3", "--std", "0.25,0.5,0.125")
want = [((reference(decoded(n), 224, 224, plain=True) / 255 - np.array([0.5, 0.4, 0.3])) / np.array([0.25, 0.5, 0.125]))
        .transpose(2, 0, 1) for n in names]
check("C float32 --resize --mean --std", got, want, 1e-4 / 0.125 * 0.225, 2 / 255 / 0.125)

if failed:
    sys.exit("\n".join(failed))
print("ok")
)PY";

TEST(ImageReference, RunImagesMatchesANumpyReference) {
  if (const std::string lacks = test::python_lacks("numpy, PIL"); !lacks.empty()) GTEST_SKIP() << lacks;
  test::TempDir dir;
  const auto result = test::run_python(
      dir, kReferenceScript, test::shell_quote(ONNXPOOL_CLI) + " " + test::shell_quote(test::model_path("").string()));
  std::cout << result.output;
  ASSERT_EQ(result.status, 0) << result.output;
}

}  // namespace
}  // namespace onnxpool
