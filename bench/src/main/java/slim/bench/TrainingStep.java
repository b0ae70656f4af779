package slim.bench;

import slim.nn.kernels.Kernels;
import slim.nn.model.Model;
import slim.nn.model.Rows;
import slim.nn.optim.AdamW;

/**
 * One training step of a first-k model, as fine-tuning runs it: forward over a prompt of `tokens`
 * tokens, the LM head and cross-entropy over the whole vocabulary, backward, AdamW over every
 * parameter (embeddings included), which leaves the gradients zero for the next step (zeroGrad
 * then has nothing to do, as in the Trainer). What StepBenchmark times and StepProfile dissects.
 *
 * <p>head "last" is the study's step (the label is read at the last position only, so the last block computes
 * that row only, as the trainer runs it); "all" is a causal-LM step (the head and loss at every position), the
 * work PyTorch/Hugging Face do by default.
 */
final class TrainingStep {
    private final Model model;
    private final AdamW optimizer;
    private final int[] ids, rows, targets;
    private final Rows computed;

    TrainingStep(String shape, int k, int tokens, String head, Kernels kernels) {
        boolean all = switch (head) {
            case "last" -> false;
            case "all" -> true;
            default -> throw new IllegalArgumentException("head must be last or all, not " + head);
        };
        int n = all ? tokens : 1;
        BenchModel bench = BenchModel.of(shape, k, tokens, n, true, kernels);
        this.model = bench.model;
        this.ids = bench.ids;
        this.computed = all ? Rows.all(tokens) : Rows.all(tokens).lastRow();
        this.optimizer = AdamW.withDefaults(model, 1e-5f);
        this.rows = new int[n];
        this.targets = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = all ? i : tokens - 1;
            targets[i] = ids[rows[i] + 1];
        }
    }

    /** Runs the step; returns its loss, read once the step is done (a device backend runs it without a stop). */
    float run() {
        model.forward(ids, computed);
        model.lmHead(rows, rows.length);
        model.computeLoss(targets, null);
        model.backward();
        optimizer.step();
        model.zeroGrad();
        return model.lossValue();
    }
}
