package slim.nn.kernels;

import slim.nn.Slice;

/**
 * Everything a backend implements: the forward/backward kernel pairs of every family, the loss and
 * the optimiser. A model step is a fixed sequence of calls to these over buffers the model owns, and
 * a backend runs each call as it comes: the CPU at once on the host's arrays, a device backend
 * (TornadoVM) as one kernel launch on copies it keeps on the device, so the host brackets its own
 * reads and writes of a buffer with {@link #read} and {@link #write}.
 *
 * <p>Conventions, as in llm.c: rows are positions (T of them), row-major [T, C] activations; a
 * weight of a linear layer is [OC, C] (out, in); backward kernels ACCUMULATE (+=) into every
 * gradient they are given, so the caller zeroes what must start from zero.
 */
public interface Kernels extends AutoCloseable {

    String name();

    /**
     * The model that used these kernels is done: a device backend releases (or keeps for the next model, see
     * TornadoKernels) what it holds on the device. The CPU backend holds nothing.
     */
    @Override
    default void close() {}

    /**
     * The host is about to read s: a backend that keeps buffers on a device brings s back first
     * (finishing any work it deferred). The CPU backend has nothing to do.
     */
    default void read(Slice s) {}

    /** The host has just written s: a device backend sends it to the device before its next use. */
    default void write(Slice s) {}

    /**
     * Buffers of about this many floats are coming (a model's parameters, gradients, optimiser moments and
     * activations, estimated from its layout): a backend that places them in device memory sizes it once, before
     * the first step, instead of growing it as they appear. The CPU backend has nothing to do.
     */
    default void reserve(long floats) {}

    /** A promise that the weights stay as they are, until closed ({@link #weightsFixed}). */
    interface Fixed extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * The weights stay as they are until the returned scope closes (an evaluation pass): a backend may keep what it
     * derives from them and reuse it in later calls instead of deriving it per call (the CPU keeps each weight packed
     * for the forward product). By default nothing is kept.
     */
    default Fixed weightsFixed() {
        return () -> {};
    }

    /** out[t] (+)= table[ids[t]] for t < T, rows of width C; accumulate adds instead of writing. */
    void embeddingForward(Slice out, Slice table, int[] ids, int T, int C, boolean accumulate);

    void embeddingBackward(Slice dtable, Slice dout, int[] ids, int T, int C);

    void layerNormForward(Slice out, Slice mean, Slice rstd, Slice inp, Slice w, Slice b, int T, int C, float eps);

    void layerNormBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean, Slice rstd, int T, int C);

    void rmsNormForward(Slice out, Slice rstd, Slice inp, Slice w, int T, int C, float eps);

    void rmsNormBackward(Slice dinp, Slice dw, Slice dout, Slice inp, Slice w, Slice rstd, int T, int C);

    /** out[T, OC] = inp[T, C] · w[OC, C]ᵀ + bias[OC] (bias may be null). */
    void matmulForward(Slice out, Slice inp, Slice w, Slice bias, int T, int C, int OC);

    /**
     * dinp += dout·w where accumulate, else dinp = dout·w (the same floats as zeroing dinp first, without a pass
     * that only writes zeros); dw += doutᵀ·inp, db += Σ_t dout (the bias's gradient). dinp may be null (input is
     * not trained), dw may be null (its gradient is left to {@link #adamwOuterProduct}).
     */
    void matmulBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, int T, int C, int OC, boolean accumulate);

    /**
     * Scaled dot-product attention of the query rows of a fused qkv [T, (H + 2·KV)·D] (q heads, then k, then v)
     * against the keys and values of its T rows, as the shape says (causal: query row t sees rows 0..t;
     * grouped-query when KV < H). Every buffer is indexed by absolute row, so one call serves the full pass, only
     * the rows a head reads (the last block), and the rows after a cached prefix (the rows before them in qkv hold
     * its keys and values): out [T, H·D] gets the query rows; att [H, T, T] keeps those rows' softmax
     * probabilities for backward (zero past the causal limit); dropMask (nullable) [H, T, T] is the
     * attention-dropout mask (0 or 1/(1-p)).
     */
    void attentionForward(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape);

    /**
     * datt is scratch of att's size; dqkv [T, (H + 2·KV)·D] is overwritten (not accumulated): q of the query rows,
     * zero q elsewhere, k and v of every row.
     */
    void attentionBackward(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape);

    /** Rotates q and k of a fused qkv in place (rotate-half RoPE); cos/sin are [maxT, D/2] tables. */
    void ropeForward(Slice qkv, Slice cos, Slice sin, int T, int H, int KV, int D);

    /** The transposed rotation, applied in place to dqkv. */
    void ropeBackward(Slice dqkv, Slice cos, Slice sin, int T, int H, int KV, int D);

    void activationForward(Nonlinearity act, Slice out, Slice inp, int N);

    /** dinp += act'(inp) · dout. */
    void activationBackward(Nonlinearity act, Slice dinp, Slice inp, Slice dout, int N);

    /** out[T, I] = silu(gate) · up, with gateUp [T, 2I] holding gate then up in each row. */
    void swigluForward(Slice out, Slice gateUp, int T, int I);

    /** dgateUp is overwritten. */
    void swigluBackward(Slice dgateUp, Slice gateUp, Slice dout, int T, int I);

    /** out = a + b. */
    void add(Slice out, Slice a, Slice b, int N);

    /** x *= y, element-wise (dropout forward and backward with a mask). */
    void multiply(Slice x, Slice y, int N);

    /** Fills mask with 0 (probability p) or 1/(1-p), reproducibly from seed. */
    void dropoutMask(Slice mask, int N, float p, long seed);

    void zero(Slice x, int N);

    void copy(Slice dst, Slice src, int N);

    /** dst[i] = src[rows[i]] for i < n, rows of width C. */
    void gatherRows(Slice dst, Slice src, int[] rows, int n, int C);

    /** dst[rows[i]] += src[i]. */
    void scatterAddRows(Slice dst, Slice src, int[] rows, int n, int C);

    /** out[C] = mean over the T rows of inp. */
    void meanRowsForward(Slice out, Slice inp, int T, int C);

    /** dinp[t] += dout / T for every row. */
    void meanRowsBackward(Slice dinp, Slice dout, int T, int C);

    /**
     * Softmax cross-entropy of n rows of logits [n, V] against targets; candidates (nullable) restricts
     * the softmax to those columns. Keeps probs for backward; losses[r] gets row r's loss. It returns
     * nothing so that a device backend need not wait for it: the host {@link #read}s losses when it wants
     * the value (a training step, once its backward is recorded).
     */
    void crossEntropyForward(Slice losses, Slice probs, Slice logits, int[] targets, int[] candidates, int n, int V);

    /** dlogits = (probs - onehot(target)) / n, overwritten. */
    void crossEntropyBackward(Slice dlogits, Slice probs, int[] targets, int[] candidates, int n, int V);

    /**
     * One AdamW step (PyTorch semantics: decoupled weight decay, bias correction); step counts from 1.
     * It consumes the gradient: grads is left zero, so the next backward needs no zeroing pass of its
     * own (what torch's zero_grad(set_to_none=True) saves).
     */
    void adamw(Slice params, Slice grads, Slice m, Slice v, int N, AdamWSettings settings, int step);

    /**
     * One AdamW step over a weight [R, C] whose gradient is grads + dout ⊗ inp (dout [R], inp [C]): the weight
     * gradient of a linear layer at one position (an LM head at the last one) that backward left unwritten, so that
     * this pass computes it from the two vectors instead of writing it out and reading it back (twice the weight's
     * size in memory traffic; the tied embedding table is most of a first-k model). stored (nullable: every row)
     * [R] marks the rows where grads holds a gradient of its own (the table's looked-up rows); grads is zero in the
     * others, which need not be read. grads is left zero, as by {@link #adamw}.
     */
    default void adamwOuterProduct(
            Slice params,
            Slice grads,
            Slice m,
            Slice v,
            Slice dout,
            Slice inp,
            boolean[] stored,
            int R,
            int C,
            AdamWSettings settings,
            int step) {
        matmulBackward(null, grads, null, dout, inp, params, 1, C, R, true);
        adamw(params, grads, m, v, R * C, settings, step);
    }
}
