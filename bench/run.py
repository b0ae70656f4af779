#!/usr/bin/env python3
"""Builds slim, runs the JMH benchmarks and the PyTorch comparison, and prints the README's tables.

  python3 bench/run.py            # everything (35-40 minutes on 2 cores)
  python3 bench/run.py --compare  # only the side-by-side with PyTorch (about 8 minutes)
  python3 bench/run.py --no-build # reuse bench/target/benchmarks.jar
  python3 bench/run.py --compare --rounds 3  # slim and PyTorch alternate three times, medians
  python3 bench/run.py --quick --no-build    # smoke test of the whole harness (2-3 minutes, numbers meaningless)
  python3 bench/run.py --torch bench/.venv/bin/python  # only this PyTorch (repeatable)
  python3 bench/run.py --cell     # a shortened cell as a user runs it, slim against PyTorch (k = 1, 2, 12)
  python3 bench/run.py --cell --quick  # the same at k = 1 on one task, 16 steps and 32 validation forwards
  python3 bench/run.py --cell --skip-usual  # the cell without PyTorch as most run it (about 12 minutes, not 45)
  python3 bench/run.py --cell --study-epoch --skip-usual --k 1,2  # one epoch of the study's cell (200 steps,
                                  # 1000 validation and 1000 test forwards) at k = 1 and 2 (about 25 minutes)

Run from the repository root. PyTorch: each of $SLIM_TORCH_PYTHON, bench/.venv/bin/python
(python3 -m venv bench/.venv && bench/.venv/bin/pip install torch transformers) and /usr/bin/python3
(Debian's python3-torch with OpenBLAS, libopenblas0-pthread) that imports torch; jemalloc (libjemalloc2).
"""
import argparse
import collections
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "bench", "target", "benchmarks.jar")
JAVA_HOME = os.environ.get("SLIM_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
JAVA = os.path.join(JAVA_HOME, "bin", "java")
TORCH_STEP = os.path.join(ROOT, "bench", "torch_step.py")
TORCH_CELL = os.path.join(ROOT, "bench", "torch_cell.py")
SLIM = os.path.join(ROOT, "slim")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
# --cell: a GPT-2-small-shape checkpoint with random weights and GPT-2's tokenizer, written once.
CELL_MODEL = os.path.join(ROOT, "bench", "target", "cell", "gpt2-small")
# (k, task, setting) of the cell table, and the training steps, validation forwards and test forwards of each cell:
# the shortened cell, --quick's, and --study-epoch's (one epoch of the study's cell and its test pass).
CELL_ROWS = [(k, task, setting) for k in (1, 2, 12)
             for task, setting in (("sst2", "lm-prompt"), ("agnews", "lm-prompt"), ("sst2", "cls-plain"))]
CELL_SIZE = (64, 128, 1)
QUICK_CELL_ROWS, QUICK_CELL_SIZE = [(1, "sst2", "lm-prompt")], (16, 32, 1)
STUDY_EPOCH_SIZE = (200, 1000, 1000)
LABELS = {"sst2": 2, "agnews": 4, "trec": 6, "emocontext": 4}
# The PyTorch interpreters tried when no --torch is given (those that import torch).
TORCH_PYTHONS = [os.environ.get("SLIM_TORCH_PYTHON"), os.path.join(ROOT, "bench", ".venv", "bin", "python"),
                 "/usr/bin/python3"]
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# Median and 95th-percentile prompt lengths of the study's lm-prompt prompts with GPT-2's tokenizer, as
# PromptLengths prints them: the full run reads them from its output, --compare (which skips it) uses these.
TASKS = {"sst2": {"median": 61, "p95": 84}, "trec": {"median": 131, "p95": 140},
         "emocontext": {"median": 139, "p95": 154}, "agnews": {"median": 317, "p95": 350}}
# JMH: one warm-up and three measured iterations of at least a second (steps longer than that run once each).
JMH_TIME = ["-f", "1", "-wi", "1", "-w", "1", "-i", "3", "-r", "1"]
TORCH_TIME = ["--reps", "3", "--warmup", "1"]
# --quick: one measured iteration / step each, only to check the harness end to end.
JMH_QUICK = ["-f", "1", "-wi", "0", "-i", "1", "-r", "1"]
TORCH_QUICK = ["--reps", "1", "--warmup", "1"]
# The kept-layer counts benchmarked per shape: training holds 16 bytes per parameter (Footprint),
# so GPT2-XL trains up to k = 24 and OPT-1.3b up to 12 here; forward holds 4 and runs every depth.
STEP_K = {"gpt2": "1,6,12", "gpt2-xl": "1,12,24", "opt-1.3b": "1,6,12"}
FORWARD_K = {"gpt2": "1,6,12", "gpt2-xl": "1,12,48", "opt-1.3b": "1,12,24"}
# The (task, length) pairs each shape runs at: the big shapes' forks take 5-15 s each, so they run a
# middle task at both lengths and the longest task at its median (its p95 is only 10 % longer).
BIG = [("emocontext", "median"), ("emocontext", "p95"), ("agnews", "median")]
MODEL_TASKS = {"gpt2": [(task, which) for task in TASKS for which in ("median", "p95")], "gpt2-xl": BIG, "opt-1.3b": BIG}
# (shape, k, task): the comparison with PyTorch, at the task's median length.
COMPARE = [("gpt2", 12, "emocontext"), ("gpt2", 6, "agnews")]
QUICK_COMPARE = [("gpt2", 1, "emocontext")]

# One PyTorch interpreter: its path, torch and transformers (None if absent) versions, the --adamw variants it runs.
Torch = collections.namedtuple("Torch", "python torch transformers adamw")


def minor(version):
    """'2.13.0+cpu' -> '2.13': what the tables name."""
    return ".".join(version.split(".")[:2])


def sh(cmd, env=None):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode:  # show the tool's own error (JMH writes it to stdout)
        sys.exit(f"{cmd[0]} exited with {r.returncode}:\n{(r.stdout + r.stderr)[-4000:]}")
    return r.stdout


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


def interpreters(chosen):
    """The --torch interpreters (each must import torch), else every one of TORCH_PYTHONS that does,
    each probed once for its versions and AdamW variants."""
    found = []
    for python in dict.fromkeys(p for p in chosen or TORCH_PYTHONS if p):
        exe = shutil.which(python)
        probe = exe and subprocess.run([exe, TORCH_STEP, "--probe"], capture_output=True, text=True)
        if probe and probe.returncode == 0:
            info = json.loads(probe.stdout.splitlines()[-1])
            found.append(Torch(os.path.abspath(exe), info["torch"], info["transformers"], tuple(info["adamw"])))
        elif chosen:
            sys.exit(f"--torch {python}: " + (probe.stderr[-2000:] if probe else "not found"))
    if not found:
        sys.exit("no interpreter imports torch: create bench/.venv (bench/README.md), install python3-torch or pass --torch")
    return found


def torch_ms(py, best, **kw):
    """Median ms of torch_step.py run by py; best: jemalloc keeping its pages and the OpenBLAS variables
    unset for this command, else the environment as it is."""
    env = None
    if best:
        env = dict(os.environ, LD_PRELOAD=JEMALLOC, MALLOC_CONF="retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1")
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    args = [py.python, TORCH_STEP, *TORCH_TIME]
    for k, v in kw.items():
        args += [f"--{k}", str(v)]
    return json.loads(sh(args, env).strip().splitlines()[-1])["median_ms"]


def machine(pythons):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
    java = subprocess.run([JAVA, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    torch = ", ".join(f"{py.torch}{' + transformers ' + py.transformers if py.transformers else ''} "
                      f"({os.path.relpath(py.python, ROOT) if py.python.startswith(ROOT + os.sep) else py.python})"
                      for py in pythons)
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.system()} {platform.release()}; "
            f"{java}; PyTorch {torch}; {datetime.date.today().isoformat()}")


def prompt_lengths(text):
    """{task: {"median": tokens, "p95": tokens}} from PromptLengths' table (| task | prompts | median | p95 | max |)."""
    lengths = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2].isdigit():
            lengths[cells[0]] = {"median": int(cells[2]), "p95": int(cells[3])}
    return lengths


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


def models(lengths, quick):
    print("### Forward latency and training step against k (ms, median and 95th-percentile prompt length of each task)\n")
    plan = {"gpt2": ([("emocontext", "median"), ("emocontext", "p95")], "1", "1")} if quick else {
        shape: (pairs, FORWARD_K[shape], STEP_K[shape]) for shape, pairs in MODEL_TASKS.items()}
    for shape, (pairs, forward_k, step_k) in plan.items():
        runs = [(task, which, lengths[task][which]) for task, which in pairs]
        tokens = ",".join(str(t) for t in sorted({t for _, _, t in runs}))
        fwd = jmh("slim.bench.ForwardBenchmark", {"shape": shape, "k": forward_k, "tokens": tokens})
        step = jmh("slim.bench.StepBenchmark", {"shape": shape, "k": step_k, "tokens": tokens})
        ks = sorted({int(dict(key[1:])["k"]) for key in list(fwd) + list(step)})
        rows = []
        for task, which, t in runs:
            for k in ks:
                f = fwd.get(("forward", ("k", str(k)), ("shape", shape), ("tokens", str(t))))
                s = step.get(("trainStep", ("head", "last"), ("k", str(k)), ("shape", shape), ("tokens", str(t))))
                rows.append([shape, task, which, t, k, "-" if f is None else f"{f:.0f}",
                             "does not fit" if s is None else f"{s:.0f}"])
        table(["model", "task", "length", "tokens", "k", "forward ms", "train step ms"], rows)


def compare(rounds, lengths, pythons, quick):
    """slim and PyTorch alternate for `rounds` rounds; each cell is the median over rounds (a shared machine's load drifts).

    PyTorch at its best: the fastest of every interpreter x 1 or 2 threads, each with its fastest AdamW
    (fused where the torch has it, else foreach: one kernel over all parameters beats one per tensor), jemalloc preloaded.
    PyTorch as most run it: transformers' model in the first interpreter that has it (else the hand-written
    decoder computing the same logits), environment, allocator and threads as they are."""
    print("### slim against PyTorch, same machine, same step (GPT-2 small shape, random weights)\n")
    best = [(py, threads, py.adamw[-1]) for py in pythons for threads in (1, 2)]
    usual = next((py for py in pythons if py.transformers), pythons[0])
    usual_label = (f"torch {minor(usual.torch)} + transformers {minor(usual.transformers)}" if usual.transformers
                   else f"torch {minor(usual.torch)}, hand-written decoder, no transformers")
    rows = []
    for shape, k, task in QUICK_COMPARE if quick else COMPARE:
        t = lengths[task]["median"]
        ms = collections.defaultdict(list)  # what ran -> its ms in each round
        for _ in range(rounds):
            s = jmh("slim.bench.StepBenchmark", {"shape": shape, "k": str(k), "tokens": str(t), "head": "last,all"})
            for head in ("last", "all"):
                ms["slim", head].append(s[("trainStep", ("head", head), ("k", str(k)), ("shape", shape), ("tokens", str(t)))])
                for py, threads, adamw in best:
                    ms[head, py, threads, adamw].append(
                        torch_ms(py, True, shape=shape, k=k, tokens=t, head=head, threads=threads, adamw=adamw))
            ms["usual"].append(torch_ms(usual, False, shape=shape, k=k, tokens=t, head="hf",
                                        impl="hf" if usual.transformers else "hand"))
        med = {key: statistics.median(v) for key, v in ms.items()}
        for head, what in (("last", "study's step (head at the last position)"),
                           ("all", "causal-LM step (head at every position)")):
            py, threads, adamw = min(best, key=lambda run: med[(head, *run)])
            torch, slim = med[head, py, threads, adamw], med["slim", head]
            rows.append([what, k, t, f"{slim:.0f}",
                         f"{torch:.0f} (torch {minor(py.torch)}, {threads} thread{'s' if threads > 1 else ''}, {adamw} AdamW)",
                         f"{torch / slim:.2f}x"])
        rows.append(["study's step vs PyTorch as most run it (logits at every position)", k, t, f"{med['slim', 'last']:.0f}",
                     f"{med['usual']:.0f} ({usual_label}, default allocator and threads)",
                     f"{med['usual'] / med['slim', 'last']:.2f}x"])
    table(["step", "k", "tokens", "slim ms", "PyTorch ms", "PyTorch / slim"], rows)


def cell_model(py):
    """The cell's checkpoint: GPT-2 small's shape, random weights (torch_cell.py --make), GPT-2's tokenizer files."""
    if not os.path.exists(os.path.join(CELL_MODEL, "model.safetensors")):
        sh([py.python, TORCH_CELL, "--make", CELL_MODEL])
    tokenizer = os.path.join(SHARED, "tokenizers", "gpt2")
    for name in os.listdir(tokenizer):
        shutil.copy(os.path.join(tokenizer, name), CELL_MODEL)


def slim_cell(k, task, setting, size):
    """Runs `slim train` on the cell; returns (process wall s, train s, eval s, prefix tokens) from its result."""
    train, val, test = size
    out = tempfile.mkdtemp()
    start = time.perf_counter()
    sh([SLIM, "train", "--model", CELL_MODEL, "-k", str(k), "--task", task, "--setting", setting, "--seed", "0",
        "--train", str(train), "--val", str(val), "--test", str(test), "--epochs", "1", "--out", out])
    wall = time.perf_counter() - start
    result, = [os.path.join(d, f) for d, _, files in os.walk(out) for f in files if f.endswith(".json")]
    r = json.load(open(result))
    shutil.rmtree(out)
    return wall, r["costs"]["train_seconds"], r["costs"]["eval_seconds"], r["prompts"]["prefix_tokens"]


def torch_cell(py, k, task, setting, prompts, variant):
    """One torch_cell.py process: "best" and "cached" on 2 threads with jemalloc, "usual" as installed."""
    best = variant != "usual"
    env = dict(os.environ, LD_PRELOAD=JEMALLOC, MALLOC_CONF="retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1") \
        if best and os.path.exists(JEMALLOC) else None
    return json.loads(sh([py.python, TORCH_CELL, "--model", CELL_MODEL, "--k", str(k), "--prompts", prompts,
                          "--setting", setting, "--num-labels", str(LABELS[task]), "--variant", variant,
                          "--threads", "2" if best else "0"], env).strip().splitlines()[-1])


def cell(pythons, quick, skip_usual, study_epoch, ks, tasks):
    """slim train against torch_cell.py on the same checkpoint, prompts, steps and forwards."""
    rows, size = (QUICK_CELL_ROWS, QUICK_CELL_SIZE) if quick else (CELL_ROWS, CELL_SIZE)
    if study_epoch:
        size = STUDY_EPOCH_SIZE
    rows = [row for row in rows if (not ks or row[0] in ks) and (not tasks or row[1] in tasks)]
    train, val, test = size
    usual = next((py for py in pythons if py.transformers), None)
    if usual is None:
        sys.exit("--cell needs transformers in one of the PyTorch interpreters (bench/README.md)")
    cell_model(usual)
    sh([SLIM, "--version"])  # builds slim.jar and records its ahead-of-time cache before anything is timed
    print(f"### A cell: {train} training steps, {val} validation forwards and {test} test forwards, batch size 1, "
          f"AdamW (GPT-2-small shape, random weights; uptime before: {os.getloadavg()[0]:.1f})\n")
    table_rows = []
    for k, task, setting in rows:
        prompts = os.path.join(ROOT, "bench", "target", "cell", f"prompts-{task}-{setting}-{train}-{val}-{test}.json")
        with open(prompts, "w") as f:
            f.write(sh([JAVA, "-cp", JAR, "slim.bench.CellPrompts", CELL_MODEL, os.path.join(SHARED, "datasets"), task,
                        setting, str(train), str(val), str(test)]))
        wall, train_s, eval_s, prefix = slim_cell(k, task, setting, size)
        torch = {variant: torch_cell(usual, k, task, setting, prompts, variant)
                 for variant in ("best", "cached") + (() if skip_usual else ("usual",))}
        b, c, u = torch["best"], torch["cached"], torch.get("usual")
        differ = sum(x != y for part in ("val_predictions", "test_predictions") for x, y in zip(b[part], c[part]))
        if differ:
            print(f"cell k={k} {task} {setting}: PyTorch's cached evaluation answered {differ} of "
                  f"{val + test} examples differently from its full one", file=sys.stderr)
        fastest = min(b, c, key=lambda t: t["wall_s"])
        usual_s = f"{u['wall_s']:.1f}" if u else "-"
        print(f"cell k={k} {task} {setting}: slim {wall:.1f} s (train {train_s:.1f}, eval {eval_s:.1f}), PyTorch best "
              f"{b['wall_s']:.1f} s, cached {c['wall_s']:.1f} s, usual {usual_s} s; load {os.getloadavg()[0]:.1f}",
              file=sys.stderr, flush=True)
        table_rows.append([k, task, setting, prefix, f"{wall:.1f}", f"{train_s:.1f}", f"{eval_s:.1f}",
                           f"{b['wall_s']:.1f}", f"{b['train_s']:.1f}", f"{b['eval_s']:.1f}",
                           f"{c['wall_s']:.1f}", f"{c['eval_s']:.1f}", usual_s,
                           f"{fastest['wall_s'] / wall:.2f}x", f"{u['wall_s'] / wall:.2f}x" if u else "-",
                           f"{(fastest['train_s'] + fastest['eval_s']) / (train_s + eval_s):.2f}x"])
    table(["k", "task", "setting", "prefix tokens", "slim s", "slim train s", "slim eval s", "PyTorch best s",
           "best train s", "best eval s", "PyTorch cached s", "cached eval s", "PyTorch usual s",
           "fastest PyTorch / slim", "usual / slim", "fastest / slim (train + eval)"], table_rows)
    print(f"slim: the whole `slim train` process (JVM start, load, tokenizing, {train} steps, {val} + {test} "
          f"forwards); PyTorch {minor(usual.torch)} + transformers {minor(usual.transformers)}: the whole interpreter. "
          f"Best: logits_to_keep=1, inference_mode, fused AdamW, 2 threads, jemalloc; cached: best, and each "
          f"evaluation pass runs its prompts' shared prefix once (a DynamicCache, as slim does); fastest: the faster "
          f"of the two; usual: the plain loop, default AdamW and threads. Load after: {os.getloadavg()[0]:.1f}.\n")


def main():
    global JMH_TIME, TORCH_TIME
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", action="store_true", help="only the PyTorch comparison")
    ap.add_argument("--cell", action="store_true", help="only the shortened cell, slim train against PyTorch")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--skip-usual", action="store_true",
                    help="--cell without PyTorch as most run it (its plain loop takes most of the 45 minutes)")
    ap.add_argument("--study-epoch", action="store_true",
                    help="--cell at one epoch of the study's size: %d steps, %d validation and %d test forwards"
                         % STUDY_EPOCH_SIZE)
    ap.add_argument("--k", help="--cell: only the rows of these k (comma-separated, e.g. 1,2)")
    ap.add_argument("--task", help="--cell: only the rows of these tasks (comma-separated: sst2, agnews)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate slim and PyTorch this many times (medians)")
    ap.add_argument("--torch", action="append", metavar="PYTHON",
                    help="a PyTorch interpreter to try (repeatable); default: each of " +
                         ", ".join(p for p in TORCH_PYTHONS if p) + " that imports torch")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: one JMH iteration and one PyTorch step per run, GPT-2 k = 1 on one task")
    a = ap.parse_args()
    if a.quick:
        JMH_TIME, TORCH_TIME = JMH_QUICK, TORCH_QUICK
    pythons = interpreters(a.torch)
    if not a.no_build:
        env = dict(os.environ, JAVA_HOME=JAVA_HOME, PATH=os.path.join(JAVA_HOME, "bin") + ":" + os.environ["PATH"])
        sh(["mvn", "-q", "-pl", "nn,data", "install", "-DskipTests"], env)
        sh(["mvn", "-q", "-pl", "bench", "package"], env)
    print("Machine: " + machine(pythons) + "\n")
    if a.cell:
        cell(pythons, a.quick, a.skip_usual, a.study_epoch, [int(k) for k in a.k.split(",")] if a.k else None,
             a.task.split(",") if a.task else None)
        return
    lengths = TASKS
    if not a.compare:
        print("### Prompt lengths (tokens, GPT-2 tokenizer, lm-prompt, seed 0's train + validation + test)\n")
        out = sh([JAVA, "-Dai.djl.offline=true", "-cp", JAR, "slim.bench.PromptLengths",
                  os.path.join(os.path.dirname(ROOT), "shared")])
        print(out)
        lengths = prompt_lengths(out)
        print("### Bytes held for fine-tuning with AdamW (fp32)\n")
        print(sh([JAVA, "-cp", JAR, "slim.bench.Footprint"]))
        kernels()
        models(lengths, a.quick)
    compare(a.rounds, lengths, pythons, a.quick)


if __name__ == "__main__":
    main()
