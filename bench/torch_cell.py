#!/usr/bin/python3
"""A shortened cell of the study in PyTorch, the other side of `bench/run.py --cell`: train on slim's encoded
prompts (CellPrompts writes them: seed 0's split, GPT-2's tokenizer) one example per AdamW step, then one
validation pass and one test pass, with transformers' GPT-2 cut to its first k layers
(from_pretrained(..., n_layer=k)).

--variant best: what an expert writes: the LM head only at the last position (logits_to_keep=1) in training and
evaluation, torch.inference_mode() for evaluation, fused AdamW, gradients set to None. --variant cached: the same,
and each evaluation pass runs the longest token prefix its prompts share (the demonstrations) once, every example
then running its own tokens against that prefix's keys and values (a DynamicCache cut back to the prefix after each
example), as slim does. --variant usual: the plain Hugging Face loop: logits at every position, the default AdamW,
torch.no_grad() for evaluation.

  python3 bench/torch_cell.py --make DIR   # GPT-2-small-shape checkpoint, random weights (seed 0), safetensors
  python3 bench/torch_cell.py --model DIR --k 1 --prompts P.json --setting lm-prompt --variant best --threads 2

Prints one JSON line: wall_s (from interpreter start), load_s, train_s, eval_s (validation and test passes),
first_steps_s (the first WARM steps), step_ms (median of the others), forward_ms (median validation forward),
prefix_tokens (the longest prefix cached, 0 unless --variant cached), accuracy (validation), test_accuracy, and
val_predictions and test_predictions (the class each example got, for comparing variants).
"""
import time

START = time.perf_counter()

import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from transformers import DynamicCache, GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

WARM = 8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make", metavar="DIR")
    ap.add_argument("--model")
    ap.add_argument("--k", type=int)
    ap.add_argument("--prompts")
    ap.add_argument("--setting", choices=["lm-prompt", "cls-prompt", "cls-plain"])
    ap.add_argument("--num-labels", type=int, default=2)
    ap.add_argument("--variant", choices=["best", "cached", "usual"], default="best")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    a = ap.parse_args()
    if a.make:
        torch.manual_seed(0)
        GPT2LMHeadModel(GPT2Config()).save_pretrained(a.make, safe_serialization=True)
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    # The same dropout masks (and classification head) in every variant, so that best and cached train the same model
    # and their answers can be compared.
    torch.manual_seed(0)
    best = a.variant in ("best", "cached")
    prompts = json.load(open(a.prompts))
    lm = a.setting == "lm-prompt"
    start = time.perf_counter()
    if lm:
        model = GPT2LMHeadModel.from_pretrained(a.model, n_layer=a.k)
        label_tokens = prompts["label_tokens"]
    else:
        model = GPT2ForSequenceClassification.from_pretrained(a.model, n_layer=a.k, num_labels=a.num_labels,
                                                              pad_token_id=50256)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01, **({"fused": True} if best else {}))
    load = time.perf_counter() - start

    def logits(ids, cache=None):
        x = torch.tensor([ids])
        if not lm:
            return model(x, past_key_values=cache).logits[0]
        out = model(x, past_key_values=cache, logits_to_keep=1) if best else model(x)
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

    def evaluate(part):
        """One pass over prompts[part]: (the classes predicted, each forward's seconds, the prefix cached)."""
        examples = prompts.get(part) or []
        prefix = shared_prefix(examples) if a.variant == "cached" else 0
        cache = None
        predicted, forwards = [], []
        with torch.inference_mode() if best else torch.no_grad():
            if prefix:
                t = time.perf_counter()
                cache = DynamicCache(config=model.config)
                model(torch.tensor([examples[0][:prefix]]), past_key_values=cache, use_cache=True)
                forwards.append(time.perf_counter() - t)
            for ids in examples:
                t = time.perf_counter()
                z = logits(ids[prefix:], cache)
                if cache:
                    cache.crop(prefix - len(ids))  # drops this example's own tokens, keeping the prefix
                scores = z[label_tokens] if lm else z
                predicted.append(int(torch.argmax(scores)))
                forwards.append(time.perf_counter() - t)
        return predicted, forwards, prefix

    val, val_forwards, prefix = evaluate("val")
    test, test_forwards, _ = evaluate("test")

    def accuracy(predicted, part):
        return sum(p == y for p, y in zip(predicted, prompts.get(part + "_labels") or [])) / max(1, len(predicted))

    print(json.dumps({"wall_s": time.perf_counter() - START, "load_s": load, "train_s": sum(steps),
                      "eval_s": sum(val_forwards) + sum(test_forwards), "first_steps_s": sum(steps[:WARM]),
                      "step_ms": 1000 * statistics.median(steps[WARM:] or steps),
                      "forward_ms": 1000 * statistics.median(val_forwards), "prefix_tokens": prefix,
                      "accuracy": accuracy(val, "val"), "test_accuracy": accuracy(test, "test"),
                      "val_predictions": val, "test_predictions": test}))


def shared_prefix(examples):
    """The longest token prefix every example starts with, leaving each at least one token of its own."""
    if not examples:
        return 0
    n = min(len(ids) for ids in examples) - 1
    first = examples[0]
    for ids in examples[1:]:
        while n > 0 and ids[:n] != first[:n]:
            n -= 1
    return max(n, 0)


if __name__ == "__main__":
    main()
