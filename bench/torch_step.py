#!/usr/bin/python3
"""The same step as slim's StepBenchmark / ForwardBenchmark, in PyTorch, for the side-by-side comparison.

--impl hand: a hand-written GPT-2 / OPT decoder (pre-norm blocks, fused qkv, causal attention, tanh-GELU
or ReLU MLP, final norm, LM head tied to the token embedding) with random weights, one sequence (no
batch), fp32. --impl hf: transformers' GPT2LMHeadModel / OPTForCausalLM built from a config of the same
sizes (random weights, nothing downloaded), the sequence as a batch of one: PyTorch as most users run it.
Prints one JSON line: the median milliseconds of the measured repetitions.

  python3 bench/torch_step.py --shape gpt2 --k 12 --tokens 139 --head last --threads 2 --adamw fused
  python3 bench/torch_step.py --shape gpt2 --k 12 --tokens 139 --impl hf --head hf
  python3 bench/torch_step.py --probe   # versions and the --adamw variants this torch supports
  python3 bench/torch_step.py --shape gpt2 --k 12 --tokens 139 --device cuda --adamw fused   # on a GPU (tornado/gpu-check)
  python3 bench/torch_step.py --k 12 --tokens 139 --threads 2 --adamw fused --profile   # + where the time goes

--head last: head and loss at the last position (the study's step); all: head and loss at every
position (a causal-LM step); hf: head at every position, loss at the last (what a Hugging Face
causal-LM model computes when the label is read at the last position; the only head of --impl hf).
"""
import argparse
import importlib.metadata
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {  # vocab, hidden, layers, heads, mlp, activation, positions
    "gpt2": (50257, 768, 12, 12, 3072, "gelu", 1024),
    "gpt2-xl": (50257, 1600, 48, 25, 6400, "gelu", 1024),
    "opt-1.3b": (50272, 2048, 24, 32, 8192, "relu", 2050),
}
# AdamW(fused=True) runs on the CPU from torch 2.4 on (CUDA only before).
FUSED_SINCE = (2, 4)


def adamw_variants():
    """The --adamw values this torch supports, slowest first (foreach=True exists in every torch this script runs on)."""
    version = tuple(int(x) for x in torch.__version__.split(".")[:2])
    return ["default", "foreach"] + (["fused"] if version >= FUSED_SINCE else [])


def transformers_version():
    try:
        return importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return None


class Block(nn.Module):
    def __init__(self, c, heads, mlp, act):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.qkv, self.proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
        self.fc, self.out = nn.Linear(c, mlp), nn.Linear(mlp, c)
        self.act = (lambda x: F.gelu(x, approximate="tanh")) if act == "gelu" else F.relu

    def forward(self, x, mask):
        t, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=-1)
        q, k, v = (z.view(t, self.heads, d).transpose(0, 1) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        att = att.masked_fill(mask[:t, :t], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(0, 1).reshape(t, c)
        x = x + self.proj(y)
        return x + self.out(self.act(self.fc(self.ln2(x))))


class Decoder(nn.Module):
    def __init__(self, shape, k, max_tokens):
        super().__init__()
        vocab, c, _, heads, mlp, act, positions = SHAPES[shape]
        self.wte, self.wpe = nn.Embedding(vocab, c), nn.Embedding(positions, c)
        self.blocks = nn.ModuleList(Block(c, heads, mlp, act) for _ in range(k))
        self.ln_f = nn.LayerNorm(c)
        self.register_buffer("mask", torch.ones(max_tokens, max_tokens, dtype=torch.bool).triu(1))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.uniform_(p, -0.02 * math.sqrt(3), 0.02 * math.sqrt(3))

    def forward(self, ids, last_only):
        t = ids.shape[0]
        x = self.wte(ids) + self.wpe(torch.arange(t, device=ids.device))
        for b in self.blocks:
            x = b(x, self.mask)
        x = self.ln_f(x)
        if last_only:
            x = x[-1:]
        return x @ self.wte.weight.t()


class HfDecoder(nn.Module):
    """transformers' causal LM of the shape with k layers, called as users call it: logits at every position."""

    def __init__(self, shape, k):
        super().__init__()
        os.environ["HF_HUB_OFFLINE"] = "1"  # random weights from a config: nothing to fetch, and no network here
        import transformers
        vocab, c, _, heads, mlp, act, positions = SHAPES[shape]
        if shape.startswith("gpt2"):
            config = transformers.GPT2Config(vocab_size=vocab, n_positions=positions, n_embd=c, n_layer=k, n_head=heads,
                                             n_inner=mlp, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                             tie_word_embeddings=True)
            self.lm = transformers.GPT2LMHeadModel(config)
        else:
            # OPT's learned positions hold 2 rows more than max_position_embeddings (its offset).
            config = transformers.OPTConfig(vocab_size=vocab, hidden_size=c, num_hidden_layers=k, num_attention_heads=heads,
                                            ffn_dim=mlp, max_position_embeddings=positions - 2, activation_function=act,
                                            dropout=0.0, attention_dropout=0.0, tie_word_embeddings=True)
            self.lm = transformers.OPTForCausalLM(config)

    def forward(self, ids, last_only):
        return self.lm(ids.unsqueeze(0)).logits[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="gpt2", choices=SHAPES)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--tokens", type=int, default=139)
    ap.add_argument("--head", default="last", choices=["last", "all", "hf"])
    ap.add_argument("--mode", default="step", choices=["step", "forward"])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    ap.add_argument("--impl", default="hand", choices=["hand", "hf"], help="hand-written decoder or transformers' model")
    ap.add_argument("--adamw", default="default", choices=["default", "foreach", "fused"],
                    help="torch.optim.AdamW as is, with foreach=True or with fused=True")
    ap.add_argument("--device", default="cpu", help="torch device: cpu, or cuda for the GPU comparison of tornado/gpu-check")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="after timing, profile --reps more steps and print the top operators (stderr)")
    ap.add_argument("--probe", action="store_true", help="print torch's and transformers' versions and the --adamw variants")
    a = ap.parse_args()
    if a.probe:
        print(json.dumps({"torch": torch.__version__, "transformers": transformers_version(), "adamw": adamw_variants()}))
        return
    if a.adamw not in adamw_variants() and a.device == "cpu":
        ap.error(f"--adamw {a.adamw} needs torch >= {'.'.join(map(str, FUSED_SINCE))} on the CPU, this is {torch.__version__}")
    if a.impl == "hf" and a.head != "hf":
        ap.error("--impl hf computes the logits at every position and the loss at the last: use --head hf")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    model = (Decoder(a.shape, a.k, a.tokens) if a.impl == "hand" else HfDecoder(a.shape, a.k)).to(device)
    vocab = SHAPES[a.shape][0]
    ids = torch.randint(vocab, (a.tokens + 1,)).to(device)

    def synchronize():  # a GPU runs asynchronously: time what it did, not what was queued
        if device.type == "cuda":
            torch.cuda.synchronize()

    inp = ids[:-1]
    times = []
    if a.mode == "forward":
        model.eval()
        with torch.inference_mode():
            for i in range(a.warmup + a.reps):
                start = time.perf_counter()
                model(inp, True)
                synchronize()
                times.append(time.perf_counter() - start)
    else:
        variant = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}[a.adamw]
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01, **variant)
        targets = ids[1:] if a.head == "all" else ids[-1:]

        def step():
            logits = model(inp, a.head == "last")
            if a.head == "hf":
                logits = logits[-1:]
            F.cross_entropy(logits, targets).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        for i in range(a.warmup + a.reps):
            start = time.perf_counter()
            step()
            synchronize()
            times.append(time.perf_counter() - start)
        if a.profile:  # where the time goes, beside slim.bench.StepProfile's table (not part of the timing)
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                for i in range(a.reps):
                    step()
            print(f"per-operator CPU time over {a.reps} steps:", file=sys.stderr)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)
    ms = [1000 * t for t in times[a.warmup:]]
    print(json.dumps({"shape": a.shape, "k": a.k, "tokens": a.tokens, "head": a.head, "mode": a.mode, "impl": a.impl,
                      "threads": torch.get_num_threads(), "adamw": a.adamw, "device": a.device, "torch": torch.__version__,
                      "transformers": transformers_version() if a.impl == "hf" else None,
                      "median_ms": statistics.median(ms), "ms": [round(m, 2) for m in ms]}))


if __name__ == "__main__":
    main()
