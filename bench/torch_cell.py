#!/usr/bin/python3
"""A shortened cell of the study in PyTorch, the other side of `bench/run.py --cell`: train on slim's encoded
prompts (CellPrompts writes them: seed 0's split, GPT-2's tokenizer) one example per AdamW step, then one
validation pass, with transformers' GPT-2 cut to its first k layers (from_pretrained(..., n_layer=k)).

--variant best: what an expert writes: the LM head only at the last position (logits_to_keep=1) in training and
evaluation, torch.inference_mode() for evaluation, fused AdamW, gradients set to None. --variant usual: the plain
Hugging Face loop: logits at every position, the default AdamW, torch.no_grad() for evaluation.

  python3 bench/torch_cell.py --make DIR   # GPT-2-small-shape checkpoint, random weights (seed 0), safetensors
  python3 bench/torch_cell.py --model DIR --k 1 --prompts P.json --setting lm-prompt --variant best --threads 2

Prints one JSON line: wall_s (from interpreter start), load_s, train_s, eval_s, first_steps_s (the first
WARM steps), step_ms (median of the others), forward_ms (median validation forward), accuracy.
"""
import time

START = time.perf_counter()

import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

WARM = 8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make", metavar="DIR")
    ap.add_argument("--model")
    ap.add_argument("--k", type=int)
    ap.add_argument("--prompts")
    ap.add_argument("--setting", choices=["lm-prompt", "cls-prompt", "cls-plain"])
    ap.add_argument("--num-labels", type=int, default=2)
    ap.add_argument("--variant", choices=["best", "usual"], default="best")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    a = ap.parse_args()
    if a.make:
        torch.manual_seed(0)
        GPT2LMHeadModel(GPT2Config()).save_pretrained(a.make, safe_serialization=True)
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    best = a.variant == "best"
    prompts = json.load(open(a.prompts))
    lm = a.setting == "lm-prompt"
    start = time.perf_counter()
    if lm:
        model = GPT2LMHeadModel.from_pretrained(a.model, n_layer=a.k)
        label_tokens = prompts["label_tokens"]
    else:
        torch.manual_seed(0)
        model = GPT2ForSequenceClassification.from_pretrained(a.model, n_layer=a.k, num_labels=a.num_labels,
                                                              pad_token_id=50256)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01, **({"fused": True} if best else {}))
    load = time.perf_counter() - start

    def logits(ids):
        x = torch.tensor([ids])
        if not lm:
            return model(x).logits[0]
        out = model(x, logits_to_keep=1) if best else model(x)
        return out.logits[0, -1]

    model.train()
    steps = []
    for ids, label in zip(prompts["train"], prompts["train_labels"]):
        t = time.perf_counter()
        z = logits(ids)
        target = label_tokens[label] if lm else label
        loss = F.cross_entropy(z.unsqueeze(0), torch.tensor([target]))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        steps.append(time.perf_counter() - t)
    model.eval()
    forwards, right = [], 0
    with torch.inference_mode() if best else torch.no_grad():
        for ids, label in zip(prompts["val"], prompts["val_labels"]):
            t = time.perf_counter()
            z = logits(ids)
            scores = z[label_tokens] if lm else z
            right += int(torch.argmax(scores)) == label
            forwards.append(time.perf_counter() - t)
    print(json.dumps({"wall_s": time.perf_counter() - START, "load_s": load, "train_s": sum(steps),
                      "eval_s": sum(forwards), "first_steps_s": sum(steps[:WARM]),
                      "step_ms": 1000 * statistics.median(steps[WARM:] or steps),
                      "forward_ms": 1000 * statistics.median(forwards), "accuracy": right / len(forwards)}))


if __name__ == "__main__":
    main()
