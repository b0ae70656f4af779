#!/usr/bin/python3
"""The same step as slim's StepBenchmark / ForwardBenchmark, in PyTorch, for the side-by-side comparison.

A hand-written GPT-2 / OPT decoder (pre-norm blocks, fused qkv, causal attention, tanh-GELU or ReLU MLP,
final norm, LM head tied to the token embedding) with random weights, one sequence (no batch), fp32.
Prints one JSON line: the median milliseconds of the measured repetitions.

  /usr/bin/python3 bench/torch_step.py --shape gpt2 --k 12 --tokens 139 --head last --threads 2

--head last: head and loss at the last position (the study's step); all: head and loss at every
position (a causal-LM step); hf: head at every position, loss at the last (what a Hugging Face
causal-LM model computes when the label is read at the last position).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {  # vocab, hidden, layers, heads, mlp, activation, positions
    "gpt2": (50257, 768, 12, 12, 3072, "gelu", 1024),
    "gpt2-xl": (50257, 1600, 48, 25, 6400, "gelu", 1024),
    "opt-1.3b": (50272, 2048, 24, 32, 8192, "relu", 2050),
}


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
        x = self.wte(ids) + self.wpe(torch.arange(t))
        for b in self.blocks:
            x = b(x, self.mask)
        x = self.ln_f(x)
        if last_only:
            x = x[-1:]
        return x @ self.wte.weight.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="gpt2", choices=SHAPES)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--tokens", type=int, default=139)
    ap.add_argument("--head", default="last", choices=["last", "all", "hf"])
    ap.add_argument("--mode", default="step", choices=["step", "forward"])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    ap.add_argument("--foreach", action="store_true", help="AdamW(foreach=True)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Decoder(a.shape, a.k, a.tokens)
    vocab = SHAPES[a.shape][0]
    ids = torch.randint(vocab, (a.tokens + 1,))
    inp = ids[:-1]
    times = []
    if a.mode == "forward":
        model.eval()
        with torch.inference_mode():
            for i in range(a.warmup + a.reps):
                start = time.perf_counter()
                model(inp, True)
                times.append(time.perf_counter() - start)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01, foreach=a.foreach)
        targets = ids[1:] if a.head == "all" else ids[-1:]
        for i in range(a.warmup + a.reps):
            start = time.perf_counter()
            logits = model(inp, a.head == "last")
            if a.head == "hf":
                logits = logits[-1:]
            loss = F.cross_entropy(logits, targets)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - start)
    ms = [1000 * t for t in times[a.warmup:]]
    print(json.dumps({"shape": a.shape, "k": a.k, "tokens": a.tokens, "head": a.head, "mode": a.mode,
                      "threads": torch.get_num_threads(), "foreach": a.foreach, "median_ms": statistics.median(ms),
                      "ms": [round(m, 2) for m in ms]}))


if __name__ == "__main__":
    main()
