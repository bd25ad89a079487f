#!/usr/bin/env python3
"""Tests of bench/summarize_gpu.py (run by ctest as bench.summarize_gpu).

    summarize_gpu_test.py [ONNXPOOL_CLI MODEL_DIR]

The arithmetic and verdicts are checked on results written in the formats gpu-check.sh records; with the
CLI given, the real `onnxpool bench` JSON (CPU workers standing in for the GPU) is read as well, so a
change of the bench's JSON that the summarizer no longer understands fails here, not on a GPU machine.
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import summarize_gpu  # noqa: E402

CLI = sys.argv[1] if len(sys.argv) > 2 else None
MODELS_DIR = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None


def sweep(throughputs, workers=None):
    """A sweep JSON with these strategies' items/s at the largest N."""
    return {"strategies": [{"name": name, "throughput_at_max_n": value,
                            "workers_at_max_n": (workers or {}).get(name, [])}
                           for name, value in throughputs.items()]}


def grid(rows):
    return {"configs": [{"batch": batch, "items_per_s": value, "latency": {"p50": p50, "p99": p99}}
                        for batch, value, p50, p99 in rows]}


class Arithmetic(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.results = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, data):
        (self.results / name).write_text(json.dumps(data) if not isinstance(data, str) else data)

    def test_ratios_and_verdicts(self):
        self.write("bench_mobilenetv2_gpu_batch.json", grid([(1, 1000.0, 0.0009, 0.0012), (32, 8000.0, 0.004, 0.005)]))
        self.write("bench_mobilenetv2_cpu_gpu.json", sweep(
            {"seq_cpu": 100.0, "seq_gpu": 1000.0, "parallel": 190.0, "pool": 1050.0},
            {"pool": [{"name": "pool:cpu#0", "device": "cpu:15", "items": 3},
                      {"name": "pool:cuda0#0", "device": "cuda:0", "items": 61}]}))
        self.write("bench_mobilenetv2_cpu_gpu_batched.json", sweep({"seq_gpu": 1000.0, "pool": 7600.0}))
        self.write("run_mobilenetv2_gpu_1worker.txt", "512 items in 0.512 s: 1000.00 items/s (1 workers, ...)\n")
        self.write("run_mobilenetv2_gpu_2workers.txt", "512 items in 0.400 s: 1280.00 items/s (2 workers, ...)\n")
        self.write("bench_mobilenetv2_cpu.json", dict(sweep({"sequence": 200.0, "parallel": 300.0, "pool": 340.0}),
                                                      machine={"logical_cores": 16}))
        text = summarize_gpu.summarize(self.results)
        self.assertIn("| pool | 1050.0 | 1.05x | cpu#0 (cpu:15) 3, cuda0#0 (cuda:0) 61 |", text)
        self.assertIn("| parallel | 190.0 | 0.19x |", text)
        self.assertIn("| 32 | 8000.0 | 4.000 | 5.000 |", text)
        self.assertIn("| mobilenetv2: CPU+GPU pool vs GPU alone, batch 1 | 1.05x | 1.0x | met |", text)
        self.assertIn("| mobilenetv2: CPU+GPU pool vs GPU alone, GPU batch 32 | 0.95x | 1.0x | not met |", text)
        self.assertIn("| mobilenetv2: 2 workers vs 1 on one GPU, batch 1 | 1.28x | 1.2x | met |", text)
        self.assertIn("| mobilenetv2: pool vs sequence on the CPU cores | 1.70x | 1.5x | met |", text)
        self.assertIn("on 16 cores", text)
        self.assertIn("## resnet18\n\nNo results.", text)

    def test_missing_steps_are_said_not_fatal(self):
        self.write("run_mobilenetv2_gpu_1worker.txt", "onnxpool: error: cuda:0 asked, but no NVIDIA driver\n")
        self.write("bench_mobilenetv2_cpu_gpu.json", "{truncated")
        text = summarize_gpu.summarize(self.results)
        self.assertIn("| mobilenetv2: 2 workers vs 1 on one GPU, batch 1 | n/a | 1.2x | not measured |", text)
        self.assertIn("| mobilenetv2: pool vs sequence on the CPU cores | n/a | 1.5x | not measured |", text)

    def test_main_writes_the_summary_file(self):
        self.assertEqual(summarize_gpu.main(["summarize_gpu.py", str(self.results)]), 0)
        self.assertTrue((self.results / "GPU_SUMMARY.md").read_text().startswith("# GPU results"))
        self.assertEqual(summarize_gpu.main(["summarize_gpu.py", str(self.results / "absent")]), 1)


@unittest.skipUnless(CLI, "no onnxpool CLI given")
class RealBenchJson(unittest.TestCase):
    def test_reads_what_the_bench_writes(self):
        model = MODELS_DIR / "trivial.onnx"
        with tempfile.TemporaryDirectory() as d:
            results = pathlib.Path(d)
            # CPU workers stand in for the GPU: the names seq_gpu would have are absent, the formats real.
            subprocess.run([CLI, "bench", str(model), "-q", "--devices", "cpu:1", "--grid", "batch=1,2", "--items",
                            "8", "--json", str(results / "bench_mobilenetv2_gpu_batch.json")],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run([CLI, "bench", str(model), "-q", "--max-n", "2", "--repeat", "2", "--strategies",
                            "sequence,parallel,pool", "--json", str(results / "bench_mobilenetv2_cpu.json")],
                           check=True, stdout=subprocess.DEVNULL)
            text = summarize_gpu.summarize(results)
            self.assertRegex(text, r"\| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|")
            self.assertRegex(text, r"\| mobilenetv2: pool vs sequence on the CPU cores \| [0-9.]+x \| 1.5x \|")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=1)
