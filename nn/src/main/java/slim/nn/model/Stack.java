package slim.nn.model;

import slim.nn.Slice;

/**
 * Several examples of one evaluation pass, their own rows (those after the tokens they take from the model's
 * cached prefix) stacked, so that every row-wise op (the embeddings at each example's positions, the norms, the
 * matrix products, the activations, the residuals) runs once over all of them: one example's 15-80 rows make
 * products too small for the matrix kernel's speed (GPT-2's 768 x 2304 ran at 41 GFLOP/s at 24 rows, 98 at 192).
 * Attention runs per example, against the cached prefix and its own rows only ({@link Model#forward(Stack)}).
 * Decoders only, weights fixed: one block's buffers serve every kept block, since evaluation keeps nothing for
 * backward (per-pass state apart from the weights, as llama3.java's State).
 *
 * <p>The stacked order puts each example's last row first (rows [0, examples): the rows the heads read, the only
 * ones the last kept block computes), then each example's other rows in order. Every example of a stack takes the
 * same number of leading tokens from the cache.
 */
public final class Stack {
    /** Rows a stack holds (more when the model's longest sequence is longer): the products' speed is near its top. */
    public static final int ROWS = 192;

    final int capacity, classes;
    private final int positionOffset;
    /** Token id and position (the config's offset added, as the model's own) of each stacked row. */
    final int[] ids, positions;
    /** Each example's tokens and the stacked row where its rows but the last start. */
    final int[][] sequences;

    final int[] firstRow;
    /** One block's buffers [capacity, ...], without attention scores (the model's own layers hold those). */
    final Activations.Layer block;
    /** The embeddings (before and after OPT's project_in), the final norm and its projection [capacity, ...]. */
    final Slice tokenEmb, x0, finalNorm, finalMean, finalRstd, out;
    /** The heads' weights for the label words [classes, embedDim] and every example's logits [capacity, classes]. */
    final Slice labelWeights, logits;

    int examples, rows, cached;
    /** The final hidden states of the last pass: each example's last row, [examples, embedDim]. */
    Slice hidden;

    Stack(ModelConfig c, int capacity, int classes) {
        this.capacity = capacity;
        this.classes = classes;
        positionOffset = c.positionOffset();
        ids = new int[capacity];
        positions = new int[capacity];
        sequences = new int[capacity][];
        firstRow = new int[capacity];
        block = Activations.Layer.rowsOnly(c, capacity);
        int tc = capacity * c.hidden(), tp = capacity * c.embedDim();
        tokenEmb = c.projects() ? Slice.allocate(tp) : null;
        x0 = Slice.allocate(tc);
        finalNorm = c.finalNorm() ? Slice.allocate(tc) : null;
        finalMean = Slice.allocate(capacity);
        finalRstd = Slice.allocate(capacity);
        out = c.projects() ? Slice.allocate(tp) : null;
        labelWeights = Slice.allocate(classes * c.embedDim());
        logits = Slice.allocate(capacity * classes);
    }

    /** The rows of a stack for a model whose sequences have at most maxTokens tokens: one of them always fits. */
    static int capacity(int maxTokens) {
        return Math.max(ROWS, maxTokens);
    }

    /**
     * Stacks an example whose first cached tokens come from the model's cached prefix; false (nothing stacked) when
     * its rows no longer fit or the examples stacked already take a different number of tokens from the cache.
     */
    public boolean add(int[] sequence, int cached) {
        int own = sequence.length - cached;
        if (cached < 0 || own < 1 || own > capacity) {
            throw new IllegalArgumentException("a sequence of " + sequence.length + " tokens with " + cached
                    + " cached does not fit a stack of " + capacity + " rows (it needs at least one own row)");
        }
        if (examples > 0 && (cached != this.cached || rows + own > capacity)) return false;
        this.cached = cached;
        sequences[examples++] = sequence;
        rows += own;
        return true;
    }

    /** Empties the stack for the next pass. */
    public void clear() {
        examples = rows = 0;
        hidden = null;
    }

    /** Examples stacked. */
    public int examples() {
        return examples;
    }

    /** Rows example e has after the cached tokens. */
    int own(int e) {
        return sequences[e].length - cached;
    }

    /** Fills the stacked rows' tokens and positions: each example's last row first, then their other rows. */
    void layOut() {
        int next = examples;
        for (int e = 0; e < examples; e++) {
            int[] s = sequences[e];
            place(e, s, s.length - 1);
            firstRow[e] = next;
            for (int t = cached; t < s.length - 1; t++) place(next++, s, t);
        }
    }

    private void place(int row, int[] sequence, int t) {
        ids[row] = sequence[t];
        positions[row] = t + positionOffset;
    }
}
