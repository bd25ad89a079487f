"""The build step of pyproject.toml: the native module comes from the project's CMake build.

ONNXPOOL_BUILD_DIR=DIR reuses a build folder that already holds the module (CI's `build`); otherwise
build-python/ is configured and built here (library and module only). Either way the build is
installed into a staging prefix and the package takes, beside its Python files, the module and every
shared library of the prefix's lib/ (libonnxpool, ONNX Runtime, the Debian libraries they link).
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))


def cmake_build() -> str:
    given = os.environ.get("ONNXPOOL_BUILD_DIR")
    if given:
        return os.path.abspath(given)
    build = os.path.join(ROOT, "build-python")
    ort_root = subprocess.check_output(["bash", os.path.join(ROOT, "scripts", "setup.sh")], text=True).split()[-1]
    subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                           f"-DONNXRUNTIME_ROOT={ort_root}", f"-DPython_EXECUTABLE={sys.executable}",
                           "-DONNXPOOL_BUILD_TESTS=OFF", "-DONNXPOOL_BUILD_BENCHMARKS=OFF",
                           "-DONNXPOOL_BUILD_MODELS=OFF", "-DONNXPOOL_BUILD_TOOLS=OFF"])
    subprocess.check_call(["cmake", "--build", build, "--target", "onnxpool_python"])
    return build


def loader_names(paths: list) -> list:
    """One file per library, under the name the loader asks for: its SONAME (libfmt.so.9), or the plain
    .so of an unversioned one (libonnxruntime_providers_shared.so, which ONNX Runtime opens by that
    name); not the development link (libfmt.so) nor the full version (libfmt.so.9.1.0)."""
    by_library = {}
    for path in paths:
        name = os.path.basename(path)
        stem, _, version = name.partition(".so")
        parts = [p for p in version.split(".") if p]
        if len(parts) <= 1:
            by_library.setdefault(stem, {})[len(parts)] = path
    return [names.get(1, names.get(0)) for names in by_library.values()]


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        build = cmake_build()
        stage = os.path.join(build, "python-stage")
        shutil.rmtree(stage, ignore_errors=True)
        subprocess.check_call(["cmake", "--install", build, "--prefix", stage], stdout=subprocess.DEVNULL)
        package = os.path.join(self.build_lib, "onnxpool")
        modules = glob.glob(os.path.join(stage, "lib", "python3", "dist-packages", "onnxpool", "_onnxpool*.so"))
        if len(modules) != 1:
            raise RuntimeError(f"{build}: expected one built _onnxpool module, found {modules}")
        for path in modules + loader_names(glob.glob(os.path.join(stage, "lib", "*.so*"))):
            shutil.copy2(path, package)  # the file itself, not a link
        shutil.rmtree(stage)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):  # a platform wheel: it holds compiled code
        return True


# setuptools' own build folder, away from CMake's build/ (which it would otherwise share).
setup(cmdclass={"build_py": BuildWithCMake}, distclass=BinaryDistribution,
      options={"build": {"build_base": os.path.join("build-python", "setuptools")},
               "egg_info": {"egg_base": "build-python"}})
