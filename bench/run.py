#!/usr/bin/env python3
"""Builds slim, runs the JMH benchmarks and the PyTorch comparison, and prints the README's tables.

  python3 bench/run.py            # everything (about 15 minutes on 2 cores)
  python3 bench/run.py --compare  # only the side-by-side with PyTorch (a few minutes)
  python3 bench/run.py --no-build # reuse bench/target/benchmarks.jar
  python3 bench/run.py --compare --rounds 3  # slim and PyTorch alternate three times, medians

Run from the repository root. PyTorch is Debian's python3-torch (/usr/bin/python3) with OpenBLAS
(libopenblas0-pthread) and jemalloc (libjemalloc2) installed.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "bench", "target", "benchmarks.jar")
JAVA_HOME = os.environ.get("SLIM_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
JAVA = os.path.join(JAVA_HOME, "bin", "java")
TORCH = ["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_step.py")]
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# Median prompt lengths of the study's lm-prompt prompts with GPT-2's tokenizer (PromptLengths).
TASKS = {"sst2": 61, "trec": 131, "emocontext": 139, "agnews": 317}
# JMH: one warm-up and three measured iterations of at least a second (steps longer than that run once each).
JMH_TIME = ["-f", "1", "-wi", "1", "-w", "1", "-i", "3", "-r", "1"]
# The kept-layer counts benchmarked per shape: training holds 16 bytes per parameter (Footprint),
# so GPT2-XL trains up to k = 24 and OPT-1.3b up to 12 here; forward holds 4 and runs every depth.
STEP_K = {"gpt2": "1,6,12", "gpt2-xl": "1,12,24", "opt-1.3b": "1,6,12"}
FORWARD_K = {"gpt2": "1,6,12", "gpt2-xl": "1,12,48", "opt-1.3b": "1,12,24"}
COMPARE = [("gpt2", 12, 139), ("gpt2", 6, 317)]


def sh(cmd, env=None):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def jmh(pattern, params):
    """Runs JMH on benchmarks matching pattern with -p name=values; returns {(name, params...): ms}."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [JAVA, "--add-modules", "jdk.incubator.vector", "-jar", JAR, pattern, *JMH_TIME, "-rf", "json", "-rff", out]
    for name, values in params.items():
        cmd += ["-p", f"{name}={values}"]
    sh(cmd)
    results = {}
    for r in json.load(open(out)):
        unit = r["primaryMetric"]["scoreUnit"]
        ms = r["primaryMetric"]["score"] / (1000.0 if unit.startswith("us") else 1.0)
        key = (r["benchmark"].rsplit(".", 1)[1],) + tuple(sorted(r.get("params", {}).items()))
        results[key] = ms
    os.unlink(out)
    return results


def torch_ms(best, **kw):
    """Median ms of torch_step.py; best: jemalloc keeping its pages, OpenBLAS variables unset."""
    env = dict(os.environ)
    if best:
        env["LD_PRELOAD"] = JEMALLOC
        env["MALLOC_CONF"] = "retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1"
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    args = []
    for k, v in kw.items():
        args += [f"--{k}", str(v)]
    return json.loads(sh(TORCH + args, env).strip().splitlines()[-1])["median_ms"]


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
    java = subprocess.run([JAVA, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    torch = subprocess.run(TORCH[:1] + ["-c", "import torch; print(torch.__version__)"], capture_output=True,
                           text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.system()} {platform.release()}; "
            f"{java}; PyTorch {torch}; {datetime.date.today().isoformat()}")


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()


def kernels():
    r = jmh("slim.bench.MatmulBenchmark", {})
    rows = []
    for shape in ["768x3072", "3072x768", "768x2304"]:
        c, oc = map(int, shape.split("x"))
        flop = 2 * 128 * c * oc
        f = r[("forward", ("T", "128"), ("shape", shape))]
        b = r[("backward", ("T", "128"), ("shape", shape))]
        rows.append([f"128x{c} · {c}x{oc}", f"{f:.2f}", f"{flop / f / 1e6:.0f}", f"{b:.2f}", f"{2 * flop / b / 1e6:.0f}"])
    print("### Matmul (T = 128, GPT-2 small's linear layers)\n")
    table(["shape", "forward ms", "forward GFLOP/s", "backward ms", "backward GFLOP/s"], rows)
    a = jmh("slim.bench.AdamWBenchmark", {})
    (key, ms), = a.items()
    n = int(dict(key[1:])["params"])
    print("### AdamW (one step over GPT-2 small's parameters)\n")
    table(["parameters", "ms", "ns / parameter", "GB/s (28 bytes / parameter)"],
          [[f"{n / 1e6:.1f} M", f"{ms:.0f}", f"{ms * 1e6 / n:.2f}", f"{28 * n / ms / 1e6:.1f}"]])


def models():
    print("### Forward latency and training step against k (ms, median prompt length of each task)\n")
    for shape in ["gpt2", "gpt2-xl", "opt-1.3b"]:
        tokens = ",".join(str(t) for t in TASKS.values()) if shape == "gpt2" else str(TASKS["emocontext"])
        fwd = jmh("slim.bench.ForwardBenchmark", {"shape": shape, "k": FORWARD_K[shape], "tokens": tokens})
        step = jmh("slim.bench.StepBenchmark", {"shape": shape, "k": STEP_K[shape], "tokens": tokens})
        ks = sorted({int(dict(key[1:])["k"]) for key in list(fwd) + list(step)})
        rows = []
        for task, t in TASKS.items():
            if str(t) not in tokens.split(","):
                continue
            for k in ks:
                f = fwd.get(("forward", ("k", str(k)), ("shape", shape), ("tokens", str(t))))
                s = step.get(("trainStep", ("head", "last"), ("k", str(k)), ("shape", shape), ("tokens", str(t))))
                rows.append([shape, task, t, k, "-" if f is None else f"{f:.0f}",
                             "does not fit" if s is None else f"{s:.0f}"])
        table(["model", "task", "tokens", "k", "forward ms", "train step ms"], rows)


def compare(rounds):
    """slim and PyTorch alternate for `rounds` rounds; each cell is the median over rounds (a shared machine's load drifts)."""
    print("### slim against PyTorch, same machine, same step (GPT-2 small shape, random weights)\n")
    rows = []
    for shape, k, t in COMPARE:
        slim = {"last": [], "all": []}
        torch = {("last", 1): [], ("last", 2): [], ("all", 1): [], ("all", 2): [], "default": []}
        for _ in range(rounds):
            s = jmh("slim.bench.StepBenchmark", {"shape": shape, "k": str(k), "tokens": str(t), "head": "last,all"})
            for h in slim:
                slim[h].append(s[("trainStep", ("head", h), ("k", str(k)), ("shape", shape), ("tokens", str(t)))])
            for h, th in [key for key in torch if key != "default"]:
                torch[(h, th)].append(torch_ms(True, shape=shape, k=k, tokens=t, head=h, threads=th, reps=3, warmup=1))
            torch["default"].append(torch_ms(False, shape=shape, k=k, tokens=t, head="hf", reps=3, warmup=1))
        med = {key: statistics.median(v) for key, v in list(slim.items()) + list(torch.items())}
        for head, what in (("last", "study's step (head at the last position)"),
                           ("all", "causal-LM step (head at every position)")):
            th = min((1, 2), key=lambda n: med[(head, n)])
            rows.append([what, k, t, f"{med[head]:.0f}", f"{med[(head, th)]:.0f} ({th} thread{'s' if th > 1 else ''})",
                         f"{med[(head, th)] / med[head]:.2f}x"])
        rows.append(["study's step vs PyTorch as most run it (default allocator and threads, logits at every position)",
                     k, t, f"{med['last']:.0f}", f"{med['default']:.0f}", f"{med['default'] / med['last']:.2f}x"])
    table(["step", "k", "tokens", "slim ms", "PyTorch ms", "PyTorch / slim"], rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", action="store_true", help="only the PyTorch comparison")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--rounds", type=int, default=1, help="alternate slim and PyTorch this many times (medians)")
    a = ap.parse_args()
    if not a.no_build:
        env = dict(os.environ, JAVA_HOME=JAVA_HOME, PATH=os.path.join(JAVA_HOME, "bin") + ":" + os.environ["PATH"])
        sh(["mvn", "-q", "-pl", "nn,data", "install", "-DskipTests"], env)
        sh(["mvn", "-q", "-pl", "bench", "package"], env)
    print("Machine: " + machine() + "\n")
    if not a.compare:
        print("### Prompt lengths (tokens, GPT-2 tokenizer, lm-prompt, seed 0's train + validation + test)\n")
        print(sh([JAVA, "-Dai.djl.offline=true", "-cp", JAR, "slim.bench.PromptLengths",
                  os.path.join(os.path.dirname(ROOT), "shared")]))
        print("### Bytes held for fine-tuning with AdamW (fp32)\n")
        print(sh([JAVA, "-cp", JAR, "slim.bench.Footprint"]))
        kernels()
        models()
    compare(a.rounds)


if __name__ == "__main__":
    main()
