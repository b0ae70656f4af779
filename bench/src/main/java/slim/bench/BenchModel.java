package slim.bench;

import slim.nn.kernels.Kernels;
import slim.nn.model.Model;

/**
 * What the model benchmarks share: a first-k model of a named shape with random weights, and a
 * random prompt of `tokens` ids plus one more, so every position has a next-token target.
 */
final class BenchModel {
    final Model model;
    /** tokens + 1 ids: the prompt, then the target of its last position. */
    final int[] ids;

    final int tokens;

    private BenchModel(Model model, int[] ids, int tokens) {
        this.model = model;
        this.ids = ids;
        this.tokens = tokens;
    }

    /**
     * headRows: positions the LM head runs at; trainable: whether gradients and activations for backward are held;
     * kernels: what runs it.
     */
    static BenchModel of(String shape, int k, int tokens, int headRows, boolean trainable, Kernels kernels) {
        Shapes s = Shapes.parse(shape);
        return new BenchModel(s.model(k, tokens, headRows, trainable, kernels), s.tokens(tokens + 1, 7), tokens);
    }
}
