package slim.nn.model;

import java.util.Arrays;
import slim.nn.Slice;
import slim.nn.SlimException;
import slim.nn.SplitMix;
import slim.nn.kernels.AttentionHeads;
import slim.nn.kernels.Kernels;
import slim.nn.kernels.Nonlinearity;

/**
 * A first-k model of any family: its parameters, gradients and activations, and the forward and
 * backward passes as one straight list of kernel calls (read it like llm.c's gpt2_forward). The
 * family's choices (norm, positions, MLP, pre/post norm) were made by the config at load time.
 *
 * <p>Usage for one training example: {@code forward(ids, T)}, then a head ({@link #lmHead} or
 * {@link #classHead}), then {@link #computeLoss}, {@link #backward}, an optimiser step over {@link #params()} and
 * {@link #grads()}, and {@link #lossValue}.
 */
public final class Model {

    private final ModelConfig config;
    private final ParamLayout layout;
    private final Kernels kernels;
    private final Weights params, grads;
    private final Activations a;
    private final Pooling pooling;
    private final int[] positions, tokenTypes;
    private final Slice ropeCos, ropeSin;
    private final AttentionHeads heads;

    private boolean training;
    /**
     * Nothing has written the gradients since they were last zeroed (allocation, zeroGrad, or AdamW consuming them).
     */
    private boolean gradsZero = true;

    private long dropoutSeed, dropoutCalls;

    /**
     * Backward left the LM head's weight gradient unwritten: it is a.dLogits ⊗ a.headIn (one head row), which the
     * optimiser adds in its own pass over the weight ({@link #takeHeadGradient}) and {@link #grads()} writes out for
     * any other reader. Only after a backward that started from zero gradients, so the head's gradient rows hold
     * nothing else, except the rows of a tied table that the embedding backward wrote (headRowsStored).
     */
    private boolean headGradientPending;
    /** Off: backward writes the head's gradient out as every other (the full computation, for comparison). */
    private boolean foldHeadGradient = true;

    private final boolean[] headRowsStored;

    // What the last forward pass computed, for the head, the loss and backward.
    private int[] tokens;
    private int T;
    private int[] headRows;
    private int headCount;
    private boolean classHead;
    private int[] lossTargets, lossCandidates;
    /** The rows of the last {@link #computeLoss}. */
    private int lossRows;
    /** The label words' logits {@link #lmLogitColumns} computes, and their rows of the LM head (grown to the
     * longest list asked for). */
    private Slice columnLogits, labelWeights;

    private Rows rows;
    /** The tokens whose keys and values rows [0, prefix.length) of every layer hold for evaluation; null when none. */
    private int[] prefix;

    private final int[] idScratch, positionScratch;

    /**
     * @param maxTokens   the longest sequence this model will see: activations are sized for it
     * @param maxHeadRows the most positions the LM head is evaluated at in one pass
     * @param trainable   allocate gradients and backward scratch
     */
    public Model(
            ParamLayout layout,
            float[] block,
            Kernels kernels,
            int maxTokens,
            int maxHeadRows,
            Pooling pooling,
            boolean trainable) {
        this.config = layout.config();
        this.layout = layout;
        this.kernels = kernels;
        this.pooling = pooling;
        this.heads = config.attentionHeads();
        int limit = config.maxPositions();
        if (maxTokens < 1 || maxTokens > limit) {
            throw new SlimException(config.file() + ": sequences of " + maxTokens + " tokens do not fit the model's "
                    + limit + " positions");
        }
        this.params = new Weights(layout, block);
        this.grads = trainable ? new Weights(layout, new float[layout.size()]) : null;
        if (layout.numLabels() > 0 && (pooling == Pooling.CLS_POOLER) != layout.pooler()) {
            throw new IllegalArgumentException("pooling " + pooling + " needs a layout "
                    + (layout.pooler() ? "without" : "with") + " the pooler head");
        }
        this.a = new Activations(
                config,
                layout.keptLayers(),
                maxTokens,
                Math.max(1, maxHeadRows),
                layout.numLabels(),
                layout.pooler(),
                trainable);
        kernels.reserve(MemoryCheck.of(layout, maxTokens, Math.max(1, maxHeadRows), trainable)
                        .totalBytes()
                / Float.BYTES);
        positions = new int[maxTokens];
        for (int t = 0; t < maxTokens; t++) positions[t] = t + config.positionOffset();
        tokenTypes = new int[maxTokens];
        headRowsStored = trainable ? new boolean[config.vocab()] : null;
        idScratch = new int[maxTokens];
        positionScratch = new int[maxTokens];
        if (config.ropeEnabled()) {
            int half = config.headDim() / 2;
            ropeCos = Slice.allocate(maxTokens * half);
            ropeSin = Slice.allocate(maxTokens * half);
            for (int t = 0; t < maxTokens; t++) {
                for (int i = 0; i < half; i++) {
                    float invFreq = (float) (1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim()));
                    float angle = t * invFreq;
                    ropeCos.set(t * half + i, (float) Math.cos(angle));
                    ropeSin.set(t * half + i, (float) Math.sin(angle));
                }
            }
        } else {
            ropeCos = ropeSin = null;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public ParamLayout layout() {
        return layout;
    }

    public Weights params() {
        return params;
    }

    /** The gradients of the last backward, the LM head's written out if backward left it to the optimiser. */
    public Weights grads() {
        writeOutHeadGradient();
        return grads;
    }

    public Kernels kernels() {
        return kernels;
    }

    public Pooling pooling() {
        return pooling;
    }

    public int maxTokens() {
        return a.maxT;
    }

    /** Dropout on (as the config says) for the following passes, reproducibly from seed. */
    public void train(long seed) {
        if (grads == null) throw new IllegalStateException("model was loaded without gradients");
        training = true;
        prefix = null;
        dropoutSeed = seed;
        dropoutCalls = 0;
    }

    public void eval() {
        training = false;
    }

    // ------------------------------------------------------------------ forward

    /** Runs the embeddings and the kept blocks over every row of ids[0..T). */
    public void forward(int[] ids, int T) {
        forward(ids, Rows.all(T));
    }

    /**
     * Runs the embeddings and the kept blocks over ids[0..rows.T()), computing what rows says: the rows after a
     * cached prefix, and in the last block only the rows the head will read.
     */
    public void forward(int[] ids, Rows rows) {
        int T = rows.T(), from = rows.cached(), n = T - from;
        if (T > a.maxT) {
            throw new SlimException("a sequence of " + T + " tokens does not fit this model (at most " + a.maxT + ")");
        }
        if (from > 0) checkPrefix(ids, from);
        writeOutHeadGradient(); // its factors are about to be overwritten
        keepPrefix(from);
        this.tokens = ids;
        this.T = T;
        this.rows = rows;
        int C = config.hidden(), P = config.embedDim();
        int[] rowIds = from == 0 ? ids : tail(ids, from, n, idScratch);
        Slice x0 = rowsOf(a.x0, from, C), tokenEmb = a.tokenEmb == null ? null : rowsOf(a.tokenEmb, from, P);
        embed(tokenEmb, x0, rowIds, tail(positions, from, n, positionScratch), n);
        if (params.wtt != null) kernels.embeddingForward(x0, params.wtt, tokenTypes, n, C, true);
        Slice h = a.x0;
        if (a.embNorm != null) {
            kernels.layerNormForward(
                    rowsOf(a.embNorm, from, C),
                    a.embMean.sub(from, n),
                    a.embRstd.sub(from, n),
                    x0,
                    params.embNormW,
                    params.embNormB,
                    n,
                    C,
                    config.normEps());
            h = a.embNorm;
        }
        dropout(h, a.x0Drop, config.embeddingDropout(), from, T, C);
        int last = a.layers.length - 1;
        for (int l = 0; l < last; l++) h = blockForward(l, h, from, T);
        if (last >= 0) h = blockForward(last, h, rows.headFrom(), rows.headTo());
        int h0 = rows.headFrom();
        finalRows(h, a.finalNorm, a.finalMean, a.finalRstd, a.out, h0, rows.headTo() - h0);
        headRows = null;
    }

    /** The token embeddings of n rows into x0 (through tokenEmb and project_in where the family projects), plus
     * the learned positions' where it has them. */
    private void embed(Slice tokenEmb, Slice x0, int[] ids, int[] positions, int n) {
        int C = config.hidden(), P = config.embedDim();
        if (config.projects()) {
            kernels.embeddingForward(tokenEmb, params.wte, ids, n, P, false);
            kernels.matmulForward(x0, tokenEmb, params.projectIn, null, n, P, C);
        } else {
            kernels.embeddingForward(x0, params.wte, ids, n, C, false);
        }
        if (params.wpe != null) kernels.embeddingForward(x0, params.wpe, positions, n, C, true);
    }

    /**
     * The final norm (into norm, where the family has one) and project_out (into out, where it projects) of rows
     * [h0, h0 + hn) of the blocks' output h; returns the buffer of the final hidden states.
     */
    private Slice finalRows(Slice h, Slice norm, Slice mean, Slice rstd, Slice out, int h0, int hn) {
        if (norm != null) {
            if (hn > 0) norm(norm, mean, rstd, h, params.finalNormW, params.finalNormB, h0, hn);
            h = norm;
        }
        if (out == null) return h;
        int C = config.hidden(), P = config.embedDim();
        if (hn > 0) kernels.matmulForward(rowsOf(out, h0, P), rowsOf(h, h0, C), params.projectOut, null, hn, C, P);
        return out;
    }

    /** Rows [from, ...) of every layer's keys and values are about to be overwritten: only [0, from) stays cached. */
    private void keepPrefix(int from) {
        if (prefix != null && prefix.length > from) prefix = from == 0 ? null : Arrays.copyOf(prefix, from);
    }

    /**
     * Runs the kept blocks over the prefix ids[0..P) once and keeps every layer's keys and values, so that later
     * passes over sequences that start with it ({@link Rows#afterPrefix}) compute only their own rows. Evaluation
     * only: the cache holds until the next pass over rows it covers, a training pass, or backward (after which the
     * weights change).
     */
    public void cachePrefix(int[] ids, int P) {
        if (training) throw new IllegalStateException("a cached prefix serves evaluation only (call eval() first)");
        if (!config.family().isDecoder()) {
            throw new IllegalStateException(config.file() + ": an encoder attends both ways and cannot reuse a prefix");
        }
        forward(ids, new Rows(P, 0, P, P));
        prefix = Arrays.copyOf(ids, P);
    }

    /** Tokens whose keys and values are cached (0 when none). */
    public int cachedPrefix() {
        return prefix == null ? 0 : prefix.length;
    }

    private void checkPrefix(int[] ids, int from) {
        if (training) throw new IllegalStateException("a cached prefix serves evaluation only");
        if (prefix == null || prefix.length < from || !Arrays.equals(ids, 0, from, prefix, 0, from)) {
            throw new IllegalStateException("the sequence does not start with the " + from + " cached tokens (cached: "
                    + cachedPrefix() + "); call cachePrefix first");
        }
    }

    /** ids[from..from+n) as an array starting at 0, in scratch. */
    private static int[] tail(int[] ids, int from, int n, int[] scratch) {
        System.arraycopy(ids, from, scratch, 0, n);
        return scratch;
    }

    /** Rows [from, ...) of a buffer of rows of the given width. */
    private static Slice rowsOf(Slice buffer, int from, int width) {
        return buffer.sub(from * width, buffer.length() - from * width);
    }

    /**
     * One block: keys and values for rows [rows.cached(), T) (every query may attend to them), its output for rows
     * [from, to) only. Returns the buffer holding its output.
     */
    private Slice blockForward(int l, Slice in, int from, int to) {
        Activations.Layer s = a.layers[l];
        Weights.Layer p = params.layers[l];
        int kv0 = rows.cached(), n = to - from;
        qkvForward(s, p, in, kv0, T - kv0);
        rope(s.qkv, kv0, T - kv0);
        if (n == 0) return blockOutput(s);
        Slice attDrop = training ? s.attDrop : null;
        if (attDrop != null) {
            kernels.dropoutMask(attDrop, config.heads() * T * T, config.attentionDropout(), nextDropoutSeed());
        }
        kernels.attentionForward(s.attY, s.att, s.qkv, attDrop, heads.rows(T, from, n));
        return afterAttention(s, p, in, from, to);
    }

    /** The block's first norm where it comes first, and q, k and v, over rows [from, from + n). */
    private void qkvForward(Activations.Layer s, Weights.Layer p, Slice in, int from, int n) {
        int C = config.hidden(), row = config.qkvDim();
        Slice attnIn = in;
        if (config.preNorm()) {
            norm(s.norm1, s.mean1, s.rstd1, in, p.norm1W(), p.norm1B(), from, n);
            attnIn = s.norm1;
        }
        kernels.matmulForward(rowsOf(s.qkv, from, row), rowsOf(attnIn, from, C), p.qkvW(), p.qkvB(), n, C, row);
    }

    /** RoPE (where the family has it) on q and k of rows [from, from + n) of qkv, each row at its own position. */
    private void rope(Slice qkv, int from, int n) {
        if (ropeCos == null) return;
        int half = config.headDim() / 2, row = config.qkvDim();
        kernels.ropeForward(
                rowsOf(qkv, from, row),
                rowsOf(ropeCos, from, half),
                rowsOf(ropeSin, from, half),
                n,
                config.heads(),
                config.kvHeads(),
                config.headDim());
    }

    /** The buffer a block's output goes to. */
    private Slice blockOutput(Activations.Layer s) {
        return config.preNorm() ? s.res2 : s.norm2;
    }

    /**
     * The block after attention, over rows [from, to) of the attention's output s.attY: its output projection,
     * residual, norm, MLP and residual (and the norm after it, post-norm). Returns the buffer of its output.
     */
    private Slice afterAttention(Activations.Layer s, Weights.Layer p, Slice in, int from, int to) {
        int C = config.hidden(), A = config.attentionDim(), I = config.intermediate(), n = to - from;
        boolean pre = config.preNorm();
        kernels.matmulForward(
                rowsOf(s.attnProj, from, C), rowsOf(s.attY, from, A), p.attnOutW(), p.attnOutB(), n, A, C);
        dropout(s.attnProj, s.attnDrop, config.residualDropout(), from, to, C);
        kernels.add(rowsOf(s.res1, from, C), rowsOf(in, from, C), rowsOf(s.attnProj, from, C), n * C);
        Slice mlpIn;
        if (pre) {
            norm(s.norm2, s.mean2, s.rstd2, s.res1, p.norm2W(), p.norm2B(), from, n);
            mlpIn = s.norm2;
        } else {
            norm(s.norm1, s.mean1, s.rstd1, s.res1, p.norm1W(), p.norm1B(), from, n);
            mlpIn = s.norm1;
        }
        Slice fc = rowsOf(s.fc, from, config.mlpInDim()), act = rowsOf(s.act, from, I);
        kernels.matmulForward(fc, rowsOf(mlpIn, from, C), p.fcW(), p.fcB(), n, C, config.mlpInDim());
        if (config.gatedMlp()) {
            kernels.swigluForward(act, fc, n, I);
        } else {
            kernels.activationForward(config.activation(), act, fc, n * I);
        }
        kernels.matmulForward(rowsOf(s.mlpProj, from, C), act, p.projW(), p.projB(), n, I, C);
        dropout(s.mlpProj, s.mlpDrop, config.residualDropout(), from, to, C);
        Slice residual = rowsOf(pre ? s.res1 : s.norm1, from, C);
        kernels.add(rowsOf(s.res2, from, C), residual, rowsOf(s.mlpProj, from, C), n * C);
        if (!pre) norm(s.norm2, s.mean2, s.rstd2, s.res2, p.norm2W(), p.norm2B(), from, n);
        return blockOutput(s);
    }

    // ------------------------------------------------------------------ several examples per pass

    /** A stack for this model's evaluation passes (see {@link Stack}), its heads giving `classes` logits each. */
    public Stack stack(int classes) {
        if (!config.family().isDecoder()) {
            throw new IllegalStateException(config.file() + ": an encoder's example attends to every row of its own;"
                    + " run its examples one at a time");
        }
        return new Stack(config, Stack.capacity(a.maxT), classes);
    }

    /**
     * Runs the kept blocks over a stack of examples: every row-wise op once over all their rows, attention per
     * example against the cached prefix's first stack.cached rows (as {@link #cachePrefix} left them) and its own
     * rows; the last block computes only each example's last row, which {@link #lmLogitColumns(Stack, int[])} and
     * {@link #classLogits(Stack)} read. Evaluation only; the model's single-sequence pass is gone afterwards.
     */
    public void forward(Stack st) {
        if (training) throw new IllegalStateException("a stacked pass serves evaluation only (call eval() first)");
        if (st.examples == 0) throw new IllegalArgumentException("an empty stack");
        for (int e = 0; e < st.examples && st.cached > 0; e++) checkPrefix(st.sequences[e], st.cached);
        keepPrefix(st.cached);
        rows = null;
        st.layOut();
        embed(st.tokenEmb, st.x0, st.ids, st.positions, st.rows);
        Slice h = st.x0;
        int last = a.layers.length - 1;
        for (int l = 0; l <= last; l++) h = blockForward(l, st, h, l == last ? st.examples : st.rows);
        st.hidden = finalRows(h, st.finalNorm, st.finalMean, st.finalRstd, st.out, 0, st.examples);
    }

    /** Block l over a stack: its output for the first n stacked rows, keys and values for all of them. */
    private Slice blockForward(int l, Stack st, Slice in, int n) {
        Weights.Layer p = params.layers[l];
        qkvForward(st.block, p, in, 0, st.rows);
        for (int e = 0; e < st.examples; e++) attend(a.layers[l], st, e, n == st.examples);
        return afterAttention(st.block, p, in, 0, n);
    }

    /**
     * Example e's attention in a stacked pass. The kernel reads a sequence's keys and values as consecutive rows, so
     * the example's q, k and v rows are copied after the cached prefix's in the layer's own buffer (rotated there,
     * at their positions), and its output rows back into the stack. headOnly: the last block, whose head reads only
     * the example's last row.
     */
    private void attend(Activations.Layer layer, Stack st, int e, boolean headOnly) {
        Slice qkv = st.block.qkv, attY = st.block.attY;
        int row = config.qkvDim(), A = config.attentionDim();
        int c = st.cached, own = st.own(e), T = c + own, q0 = headOnly ? T - 1 : c, rest = own - 1;
        if (rest > 0) kernels.copy(rowsOf(layer.qkv, c, row), rowsOf(qkv, st.firstRow[e], row), rest * row);
        kernels.copy(rowsOf(layer.qkv, T - 1, row), rowsOf(qkv, e, row), row);
        rope(layer.qkv, c, own);
        kernels.attentionForward(layer.attY, layer.att, layer.qkv, null, heads.rows(T, q0, T - q0));
        kernels.copy(rowsOf(attY, e, A), rowsOf(layer.attY, T - 1, A), A);
        if (!headOnly && rest > 0) kernels.copy(rowsOf(attY, st.firstRow[e], A), rowsOf(layer.attY, c, A), rest * A);
    }

    /** The label words' LM-head logits at each stacked example's last row, [examples, columns.length], read back. */
    public Slice lmLogitColumns(Stack st, int[] columns) {
        requireLmHead();
        int L = columns.length;
        if (L > st.classes) throw new IllegalArgumentException(L + " columns, the stack was made for " + st.classes);
        return labelLogits(st.logits.sub(0, st.examples * L), st.hidden, st.examples, columns, st.labelWeights);
    }

    /** The score head on each stacked example's last row (last-token pooling), [examples, numLabels], read back. */
    public Slice classLogits(Stack st) {
        int L = layout.numLabels(), P = config.embedDim(), m = st.examples;
        if (L == 0 || L > st.classes || pooling != Pooling.LAST) {
            throw new IllegalStateException("a stack's head reads each example's last row into the " + st.classes
                    + " classes it was made for; this model has " + L + " labels and " + pooling + " pooling");
        }
        Slice logits = st.logits.sub(0, m * L);
        kernels.matmulForward(logits, st.hidden, params.score, params.scoreB, m, P, L);
        kernels.read(logits);
        return logits;
    }

    /** The block's norm over rows [from, from + n). */
    private void norm(Slice out, Slice mean, Slice rstd, Slice in, Slice w, Slice b, int from, int n) {
        int C = config.hidden();
        if (config.rmsNorm()) {
            kernels.rmsNormForward(
                    rowsOf(out, from, C), rstd.sub(from, n), rowsOf(in, from, C), w, n, C, config.normEps());
        } else {
            kernels.layerNormForward(
                    rowsOf(out, from, C),
                    mean.sub(from, n),
                    rstd.sub(from, n),
                    rowsOf(in, from, C),
                    w,
                    b,
                    n,
                    C,
                    config.normEps());
        }
    }

    /** Dropout on rows [from, to) of x [T, width]; the mask is drawn for all T rows, as the full pass draws it. */
    private void dropout(Slice x, Slice mask, float p, int from, int to, int width) {
        if (training && mask != null) {
            kernels.dropoutMask(mask, T * width, p, nextDropoutSeed());
            kernels.multiply(rowsOf(x, from, width), rowsOf(mask, from, width), (to - from) * width);
        }
    }

    private long nextDropoutSeed() {
        return SplitMix.nth(dropoutSeed, ++dropoutCalls);
    }

    /** The final hidden states [T, embedDim] of the last forward pass. */
    public Slice hidden() {
        if (config.projects()) return a.out;
        if (a.finalNorm != null) return a.finalNorm;
        return outputOfBlocks();
    }

    private Slice outputOfBlocks() {
        return hiddenState(a.layers.length);
    }

    /**
     * The residual stream [T, C] of the last forward pass entering kept block l (0: the
     * embeddings; the layer count: leaving the last block, before any final norm). A view of the
     * model's own activations, valid until the next forward pass; read it, do not write it.
     * On a device backend, {@link Kernels#read} it first.
     */
    public Slice hiddenState(int l) {
        if (l < 0 || l > a.layers.length) {
            throw new IllegalArgumentException("hidden state " + l + " outside 0.." + a.layers.length);
        }
        if (l == 0) return a.embNorm != null ? a.embNorm : a.x0;
        Activations.Layer s = a.layers[l - 1];
        return config.preNorm() ? s.res2 : s.norm2;
    }

    // ------------------------------------------------------------------ heads

    /** LM-head logits [n, vocab] at the given positions of the last forward pass, read back whole. */
    public Slice lmLogits(int[] positions, int n) {
        Slice logits = lmHead(positions, n);
        kernels.read(logits);
        return logits;
    }

    /**
     * The LM head's logits at one position, only in the given columns (the label words): [columns.length],
     * valid until the next call. A device backend brings back those few floats, not the vocabulary's row.
     */
    public Slice lmLogitColumns(int position, int[] columns) {
        gatherHeadInputs(new int[] {position}, 1);
        int L = columns.length;
        if (columnLogits == null || columnLogits.length() < L) {
            columnLogits = Slice.allocate(L);
            labelWeights = Slice.allocate(L * config.embedDim());
        }
        return labelLogits(columnLogits.sub(0, L), a.headIn, 1, columns, labelWeights);
    }

    /**
     * out [m, columns.length] = the LM head's logits of the m rows of in, only in the given columns, read back: the
     * head's rows of those words are gathered into w (scratch of at least [columns.length, embedDim]) and only they
     * are multiplied, since evaluation reads no other column (GPT-2's head is 50 257 rows).
     */
    private Slice labelLogits(Slice out, Slice in, int m, int[] columns, Slice w) {
        int P = config.embedDim(), L = columns.length;
        kernels.gatherRows(w, params.lmHead, columns, L, P);
        kernels.matmulForward(out, in, w, null, m, P, L);
        kernels.read(out);
        return out;
    }

    /**
     * The LM head at the given positions, computed and left where the kernels wrote it (on a device backend,
     * not read back): what a training step needs before its {@link #computeLoss}.
     */
    public Slice lmHead(int[] positions, int n) {
        gatherHeadInputs(positions, n);
        kernels.matmulForward(a.logits, a.headIn, params.lmHead, null, n, config.embedDim(), config.vocab());
        headRows = positions;
        headCount = n;
        classHead = false;
        return a.logits;
    }

    /** Classification logits [numLabels] from the `score` head on the pooled final hidden state, read back. */
    public Slice classLogits() {
        Slice logits = classHead();
        kernels.read(logits);
        return logits;
    }

    /** The classification head, computed and left where the kernels wrote it (see {@link #lmHead}). */
    public Slice classHead() {
        int L = layout.numLabels(), P = config.embedDim();
        if (L == 0) throw new IllegalStateException("model was loaded without a classification head");
        Rows read = pooling.rows(T);
        if (!passRows().computes(read.headFrom(), read.headTo())) {
            throw new IllegalArgumentException(pooling + " pooling reads rows [" + read.headFrom() + ", "
                    + read.headTo() + ") but the pass computed [" + rows.headFrom() + ", " + rows.headTo() + ")");
        }
        switch (pooling) {
            case LAST -> kernels.copy(a.pooled, hidden().sub((T - 1) * P, P), P);
            case FIRST -> kernels.copy(a.pooled, hidden(), P);
            case MEAN -> kernels.meanRowsForward(a.pooled, hidden(), T, P);
            case CLS_POOLER -> {
                kernels.matmulForward(a.poolerPre, hidden(), params.poolerW, params.poolerB, 1, P, P);
                kernels.activationForward(Nonlinearity.TANH, a.pooled, a.poolerPre, P);
                if (training && a.pooledDrop != null) {
                    kernels.dropoutMask(a.pooledDrop, P, config.classifierDropout(), nextDropoutSeed());
                    kernels.multiply(a.pooled, a.pooledDrop, P);
                }
            }
        }
        kernels.matmulForward(a.classLogits, a.pooled, params.score, params.scoreB, 1, P, L);
        classHead = true;
        headCount = 1;
        headRows = null;
        return a.classLogits;
    }

    /**
     * Mean cross-entropy of the last head's rows against targets; candidates (nullable) restricts
     * the softmax to those columns (e.g. the label words).
     */
    public float loss(int[] targets, int[] candidates) {
        computeLoss(targets, candidates);
        return lossValue();
    }

    /**
     * {@link #loss} without reading it: a training step calls {@link #backward} and the optimiser next and asks
     * for {@link #lossValue} only then, so that a device backend runs the whole step without stopping for the host
     * in between.
     */
    public void computeLoss(int[] targets, int[] candidates) {
        lossTargets = targets;
        lossCandidates = candidates;
        lossRows = headCount;
        if (classHead) {
            kernels.crossEntropyForward(
                    a.losses, a.classProbs, a.classLogits, targets, candidates, 1, layout.numLabels());
        } else {
            if (headRows == null) throw new IllegalStateException("no head was computed since the last forward pass");
            kernels.crossEntropyForward(a.losses, a.probs, a.logits, targets, candidates, headCount, config.vocab());
        }
    }

    /** The mean cross-entropy {@link #computeLoss} wrote (read from the device where the kernels keep it). */
    public float lossValue() {
        if (lossTargets == null) throw new IllegalStateException("no loss was computed since the model was loaded");
        Slice losses = a.losses.sub(0, lossRows);
        kernels.read(losses);
        double loss = 0;
        for (int r = 0; r < lossRows; r++) loss += losses.get(r);
        return (float) (loss / lossRows);
    }

    // ------------------------------------------------------------------ backward

    /** Adds the gradient of the last loss to {@link #grads()} (call {@link #zeroGrad()} between steps). */
    public void backward() {
        if (grads == null) throw new IllegalStateException("model was loaded without gradients");
        if (lossTargets == null) throw new IllegalStateException("backward needs a loss first");
        if (passRows().cached() > 0) throw new IllegalStateException("backward needs a pass without a cached prefix");
        writeOutHeadGradient();
        boolean fromZero = gradsZero;
        gradsZero = false;
        prefix = null; // the weights are about to change
        int C = config.hidden(), P = config.embedDim(), h0 = rows.headFrom(), hn = rows.headTo() - h0;
        // Only the head rows [h0, h0 + hn) of the final hidden states have a gradient.
        Slice dFinal = a.dOut;
        kernels.zero(rowsOf(dFinal, h0, P), hn * P);
        if (classHead) {
            int L = layout.numLabels();
            kernels.crossEntropyBackward(a.dClassLogits, a.classProbs, lossTargets, lossCandidates, 1, L);
            kernels.matmulBackward(
                    a.dPooled, grads.score, grads.scoreB, a.dClassLogits, a.pooled, params.score, 1, P, L, false);
            switch (pooling) {
                case LAST -> kernels.copy(dFinal.sub((T - 1) * P, P), a.dPooled, P);
                case FIRST -> kernels.copy(dFinal, a.dPooled, P);
                case MEAN -> kernels.meanRowsBackward(dFinal, a.dPooled, T, P);
                case CLS_POOLER -> {
                    if (a.pooledDrop != null && training) kernels.multiply(a.dPooled, a.pooledDrop, P);
                    kernels.zero(a.dPoolerPre, P);
                    kernels.activationBackward(Nonlinearity.TANH, a.dPoolerPre, a.poolerPre, a.dPooled, P);
                    kernels.matmulBackward(
                            dFinal,
                            grads.poolerW,
                            grads.poolerB,
                            a.dPoolerPre,
                            hidden(),
                            params.poolerW,
                            1,
                            P,
                            P,
                            true);
                }
            }
        } else {
            int V = config.vocab();
            kernels.crossEntropyBackward(a.dLogits, a.probs, lossTargets, lossCandidates, headCount, V);
            // One head row (the study's step): the optimiser computes the head's weight gradient in its pass instead
            headGradientPending = foldHeadGradient && fromZero && headCount == 1;
            Slice dHead = headGradientPending ? null : grads.lmHead;
            kernels.matmulBackward(a.dHeadIn, dHead, null, a.dLogits, a.headIn, params.lmHead, headCount, P, V, false);
            kernels.scatterAddRows(dFinal, a.dHeadIn, headRows, headCount, P);
        }
        // final projection and norm
        Slice dNormOut = dFinal;
        if (config.projects()) {
            dNormOut = a.dFinalNorm;
            kernels.matmulBackward(
                    rowsOf(dNormOut, h0, C),
                    grads.projectOut,
                    null,
                    rowsOf(dFinal, h0, P),
                    rowsOf(a.finalNorm != null ? a.finalNorm : outputOfBlocks(), h0, C),
                    params.projectOut,
                    hn,
                    C,
                    P,
                    false);
        }
        Slice dh = a.dHidden;
        if (a.finalNorm != null) {
            kernels.zero(rowsOf(dh, h0, C), hn * C);
            normBackward(
                    dh,
                    grads.finalNormW,
                    grads.finalNormB,
                    dNormOut,
                    outputOfBlocks(),
                    params.finalNormW,
                    a.finalMean,
                    a.finalRstd,
                    h0,
                    hn);
        } else {
            kernels.copy(rowsOf(dh, h0, C), rowsOf(dNormOut, h0, C), hn * C);
        }
        int last = a.layers.length - 1;
        if (last >= 0) blockBackward(last, dh, h0, rows.headTo());
        else if (hn < T) wholeRows(dh, dh, h0, hn, C);
        for (int l = last - 1; l >= 0; l--) blockBackward(l, dh, 0, T);
        // embeddings
        if (a.x0Drop != null && training) kernels.multiply(dh, a.x0Drop, T * C);
        Slice dx0 = dh;
        if (a.embNorm != null) {
            dx0 = a.dRes;
            kernels.zero(dx0, T * C);
            kernels.layerNormBackward(
                    dx0, grads.embNormW, grads.embNormB, dh, a.x0, params.embNormW, a.embMean, a.embRstd, T, C);
        }
        if (params.wpe != null) kernels.embeddingBackward(grads.wpe, dx0, positions, T, C);
        if (params.wtt != null) kernels.embeddingBackward(grads.wtt, dx0, tokenTypes, T, C);
        if (headGradientPending && params.lmHead == params.wte) {
            for (int t = 0; t < T; t++) headRowsStored[tokens[t]] = true;
        }
        if (config.projects()) {
            kernels.matmulBackward(
                    a.dTokenEmb, grads.projectIn, null, dx0, a.tokenEmb, params.projectIn, T, P, C, false);
            kernels.embeddingBackward(grads.wte, a.dTokenEmb, tokens, T, P);
        } else {
            kernels.embeddingBackward(grads.wte, dx0, tokens, T, C);
        }
    }

    /** dst [T, C] = src's rows [from, from + n), zero elsewhere (src may be dst). */
    private void wholeRows(Slice dst, Slice src, int from, int n, int C) {
        if (src != dst) kernels.copy(rowsOf(dst, from, C), rowsOf(src, from, C), n * C);
        kernels.zero(dst, from * C);
        kernels.zero(rowsOf(dst, from + n, C), (T - from - n) * C);
    }

    /**
     * dh holds d(block output) for rows [from, to) on entry (the rows the block computed its output for) and
     * d(block input) for all T rows on return.
     */
    private void blockBackward(int l, Slice dh, int from, int to) {
        Activations.Layer s = a.layers[l];
        Weights.Layer p = params.layers[l], g = grads.layers[l];
        int C = config.hidden(), H = config.heads(), KV = config.kvHeads(), D = config.headDim();
        int I = config.intermediate(), A = config.attentionDim(), M = config.mlpInDim(), n = to - from, nC = n * C;
        Slice in = hiddenState(l);
        boolean pre = config.preNorm();
        // d(res2): the residual sum after the MLP
        Slice dRes2;
        if (pre) {
            dRes2 = dh;
        } else {
            dRes2 = a.dRes;
            kernels.zero(rowsOf(dRes2, from, C), nC);
            normBackward(dRes2, g.norm2W(), g.norm2B(), dh, s.res2, p.norm2W(), s.mean2, s.rstd2, from, n);
        }
        // MLP. Pre-norm, d(res1) is d(res2) plus the MLP branch's, added onto dh where it is; post-norm, the branch's
        // gradient adds onto a copy of d(res2) in a.dNorm, d(norm1).
        Slice mlpIn = pre ? s.norm2 : s.norm1;
        Slice dAct = rowsOf(a.dAct, from, I), dFc = rowsOf(a.dFc, from, M);
        if (!pre) kernels.copy(rowsOf(a.dNorm, from, C), rowsOf(dRes2, from, C), nC);
        Slice dProj = throughDropout(rowsOf(dRes2, from, C), s.mlpDrop, from, nC);
        kernels.matmulBackward(dAct, g.projW(), g.projB(), dProj, rowsOf(s.act, from, I), p.projW(), n, I, C, false);
        if (config.gatedMlp()) {
            kernels.swigluBackward(dFc, rowsOf(s.fc, from, M), dAct, n, I);
        } else {
            kernels.zero(dFc, n * I);
            kernels.activationBackward(config.activation(), dFc, rowsOf(s.fc, from, M), dAct, n * I);
        }
        Slice dNorm = rowsOf(a.dNorm, from, C);
        if (pre) {
            kernels.matmulBackward(dNorm, g.fcW(), g.fcB(), dFc, rowsOf(mlpIn, from, C), p.fcW(), n, C, M, false);
            normBackward(dh, g.norm2W(), g.norm2B(), a.dNorm, s.res1, p.norm2W(), s.mean2, s.rstd2, from, n);
        } else {
            kernels.matmulBackward(dNorm, g.fcW(), g.fcB(), dFc, rowsOf(mlpIn, from, C), p.fcW(), n, C, M, true);
            kernels.zero(rowsOf(a.dRes, from, C), nC);
            normBackward(a.dRes, g.norm1W(), g.norm1B(), a.dNorm, s.res1, p.norm1W(), s.mean1, s.rstd1, from, n);
        }
        // dRes1 now holds d(res1) of rows [from, to); attention
        Slice dRes1 = pre ? dh : a.dRes, dAttY = rowsOf(a.dAttY, from, A);
        kernels.matmulBackward(
                dAttY,
                g.attnOutW(),
                g.attnOutB(),
                throughDropout(rowsOf(dRes1, from, C), s.attnDrop, from, nC),
                rowsOf(s.attY, from, A),
                p.attnOutW(),
                n,
                A,
                C,
                false);
        // every row's keys and values were read, so d(qkv) and everything below it cover all T rows
        kernels.attentionBackward(
                a.dQkv, a.dAtt, a.dAttY, s.qkv, s.att, training ? s.attDrop : null, heads.rows(T, from, n));
        if (ropeCos != null) kernels.ropeBackward(a.dQkv, ropeCos, ropeSin, T, H, KV, D);
        // d(input) = d(res1) through the residual, plus the attention branch
        int TC = T * C;
        if (n < T) wholeRows(dh, dRes1, from, n, C);
        else if (dRes1 != dh) kernels.copy(dh, dRes1, TC);
        if (pre) {
            kernels.matmulBackward(
                    a.dNorm, g.qkvW(), g.qkvB(), a.dQkv, s.norm1, p.qkvW(), T, C, config.qkvDim(), false);
            normBackward(dh, g.norm1W(), g.norm1B(), a.dNorm, in, p.norm1W(), s.mean1, s.rstd1, 0, T);
        } else {
            kernels.matmulBackward(dh, g.qkvW(), g.qkvB(), a.dQkv, in, p.qkvW(), T, C, config.qkvDim(), true);
        }
    }

    /**
     * dBranch (a residual branch's output gradient, nC floats from row from) back through the branch's dropout:
     * dBranch itself where none applies (no mask, or not training), else its rows of a.dProj = dBranch ⊙ mask.
     */
    private Slice throughDropout(Slice dBranch, Slice mask, int from, int nC) {
        if (mask == null || !training) return dBranch;
        int C = config.hidden();
        Slice dProj = rowsOf(a.dProj, from, C);
        kernels.copy(dProj, dBranch, nC);
        kernels.multiply(dProj, rowsOf(mask, from, C), nC);
        return dProj;
    }

    /** The norm's backward over rows [from, from + n). */
    private void normBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean, Slice rstd, int from, int n) {
        int C = config.hidden();
        Slice dx = rowsOf(dinp, from, C), d = rowsOf(dout, from, C), x = rowsOf(inp, from, C);
        if (config.rmsNorm()) {
            kernels.rmsNormBackward(dx, dw, d, x, w, rstd.sub(from, n), n, C);
        } else {
            kernels.layerNormBackward(dx, dw, db, d, x, w, mean.sub(from, n), rstd.sub(from, n), n, C);
        }
    }

    /** Zeroes the gradients, unless they are zero already (an AdamW step consumes them). */
    public void zeroGrad() {
        dropHeadGradient();
        if (gradsZero) return;
        kernels.zero(grads.all, grads.all.length());
        gradsZero = true;
    }

    /** Whether backward may leave the LM head's weight gradient to the optimiser (on unless a test compares). */
    void foldHeadGradient(boolean fold) {
        foldHeadGradient = fold;
    }

    /** Tells the model that its gradients were zeroed outside zeroGrad (by the optimiser's kernel). */
    public void gradientsZeroed() {
        dropHeadGradient();
        gradsZero = true;
    }

    /**
     * The LM head's weight gradient that the last backward left unwritten, for an optimiser that adds it in its own
     * pass ({@link Kernels#adamwOuterProduct}); null when there is none. Parameters [0, frozen) are not updated: a
     * gradient wholly inside them is dropped, one across their end is written out (null returned).
     */
    public HeadGradient takeHeadGradient(int frozen) {
        if (!headGradientPending) return null;
        int P = config.embedDim(), V = config.vocab(), offset = params.lmHead.offset() - params.all.offset();
        if (offset + V * P <= frozen) {
            dropHeadGradient();
            return null;
        }
        if (offset < frozen) {
            writeOutHeadGradient();
            return null;
        }
        headGradientPending = false;
        boolean[] stored = headRowsStored.clone();
        Arrays.fill(headRowsStored, false);
        return new HeadGradient(offset, V, P, a.dLogits.sub(0, V), a.headIn.sub(0, P), stored);
    }

    /**
     * The weight gradient dout ⊗ inp of rows [offset, offset + rows · width) of the parameter block, added to what
     * the gradients hold in the stored rows (zero in the others).
     */
    public record HeadGradient(int offset, int rows, int width, Slice dout, Slice inp, boolean[] stored) {}

    /**
     * The final hidden states at the given positions of the last pass, gathered into the LM head's input rows
     * (a.headIn), after checking that the model has an LM head and that the pass computed those rows. The head's
     * gradient factors held there are written out first.
     */
    private void gatherHeadInputs(int[] positions, int n) {
        requireLmHead();
        if (n > a.headIn.length() / config.embedDim())
            throw new IllegalArgumentException("head rows " + n + " exceed the model's maxHeadRows");
        Rows pass = passRows();
        for (int i = 0; i < n; i++) {
            if (!pass.computes(positions[i], positions[i] + 1)) {
                throw new IllegalArgumentException("head position " + positions[i]
                        + " outside the rows the pass computed [" + pass.headFrom() + ", " + pass.headTo() + ")");
            }
        }
        writeOutHeadGradient(); // its factors are about to be overwritten
        kernels.gatherRows(a.headIn, hidden(), positions, n, config.embedDim());
    }

    private void requireLmHead() {
        if (a.logits == null)
            throw new SlimException(config.file() + ": a " + config.family().modelType() + " model has no LM head");
    }

    /** The rows of the last pass over one sequence (a stacked pass overwrote what it kept). */
    private Rows passRows() {
        if (rows == null) throw new IllegalStateException("no pass over one sequence since the model's last stack");
        return rows;
    }

    private void writeOutHeadGradient() {
        if (!headGradientPending) return;
        int P = config.embedDim(), V = config.vocab();
        kernels.matmulBackward(null, grads.lmHead, null, a.dLogits, a.headIn, params.lmHead, 1, P, V, true);
        dropHeadGradient();
    }

    private void dropHeadGradient() {
        if (!headGradientPending) return;
        headGradientPending = false;
        Arrays.fill(headRowsStored, false);
    }

    /** Number of parameters held (the first-k model plus any classification head). */
    public long parameterCount() {
        return layout.size();
    }
}
