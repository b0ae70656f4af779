package slim.nn.model;

import slim.nn.SlimException;
import slim.nn.Slice;
import slim.nn.kernels.Kernels;

/**
 * A first-k model of any family: its parameters, gradients and activations, and the forward and
 * backward passes as one straight list of kernel calls (read it like llm.c's gpt2_forward). The
 * family's choices (norm, positions, MLP, pre/post norm) were made by the config at load time.
 *
 * <p>Usage for one training example: {@code forward(ids, T)}, then a head ({@link #lmLogits} or
 * {@link #classLogits}), then {@link #loss}, {@link #backward}, and an optimiser step over
 * {@link #params()} and {@link #grads()}.
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

    private boolean training;
    /** Nothing has written the gradients since they were last zeroed (allocation, zeroGrad, or AdamW consuming them). */
    private boolean gradsZero = true;
    private long dropoutSeed, dropoutCalls;

    // What the last forward pass computed, for the head, the loss and backward.
    private int[] tokens;
    private int T;
    private int[] headRows;
    private int headCount;
    private boolean classHead;
    private int[] lossTargets, lossCandidates;

    /**
     * @param maxTokens   the longest sequence this model will see: activations are sized for it
     * @param maxHeadRows the most positions the LM head is evaluated at in one pass
     * @param trainable   allocate gradients and backward scratch
     */
    public Model(ParamLayout layout, float[] block, Kernels kernels, int maxTokens, int maxHeadRows,
                 Pooling pooling, boolean trainable) {
        this.config = layout.config();
        this.layout = layout;
        this.kernels = kernels;
        this.pooling = pooling;
        int limit = config.maxPositions();
        if (maxTokens < 1 || maxTokens > limit) {
            throw new SlimException(config.file() + ": sequences of " + maxTokens + " tokens do not fit the model's "
                    + limit + " positions");
        }
        this.params = new Weights(layout, block);
        this.grads = trainable ? new Weights(layout, new float[layout.size()]) : null;
        this.a = new Activations(config, layout.keptLayers(), maxTokens, Math.max(1, maxHeadRows),
                layout.numLabels(), trainable);
        positions = new int[maxTokens];
        for (int t = 0; t < maxTokens; t++) positions[t] = t + config.positionOffset();
        tokenTypes = new int[maxTokens];
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

    public Weights grads() {
        return grads;
    }

    public Kernels kernels() {
        return kernels;
    }

    public int maxTokens() {
        return a.maxT;
    }

    /** Dropout on (as the config says) for the following passes, reproducibly from seed. */
    public void train(long seed) {
        if (grads == null) throw new IllegalStateException("model was loaded without gradients");
        training = true;
        dropoutSeed = seed;
        dropoutCalls = 0;
    }

    public void eval() {
        training = false;
    }

    // ------------------------------------------------------------------ forward

    /** Runs the embeddings and the kept blocks over ids[0..T). */
    public void forward(int[] ids, int T) {
        if (T < 1 || T > a.maxT) {
            throw new SlimException("a sequence of " + T + " tokens does not fit this model (at most " + a.maxT + ")");
        }
        this.tokens = ids;
        this.T = T;
        int C = config.hidden(), P = config.embedDim();
        if (config.projects()) {
            kernels.embeddingForward(a.tokenEmb, params.wte, ids, T, P, false);
            kernels.matmulForward(a.x0, a.tokenEmb, params.projectIn, null, T, P, C);
        } else {
            kernels.embeddingForward(a.x0, params.wte, ids, T, C, false);
        }
        if (params.wpe != null) kernels.embeddingForward(a.x0, params.wpe, positions, T, C, true);
        if (params.wtt != null) kernels.embeddingForward(a.x0, params.wtt, tokenTypes, T, C, true);
        Slice h = a.x0;
        if (a.embNorm != null) {
            kernels.layerNormForward(a.embNorm, a.embMean, a.embRstd, a.x0, params.embNormW, params.embNormB, T, C,
                    config.normEps());
            h = a.embNorm;
        }
        dropout(h, a.x0Drop, config.embeddingDropout(), T * C);
        for (int l = 0; l < a.layers.length; l++) h = blockForward(l, h);
        if (a.finalNorm != null) {
            norm(a.finalNorm, a.finalMean, a.finalRstd, h, params.finalNormW, params.finalNormB);
            h = a.finalNorm;
        }
        if (config.projects()) {
            kernels.matmulForward(a.out, h, params.projectOut, null, T, C, P);
        }
        headRows = null;
    }

    private Slice blockForward(int l, Slice in) {
        Activations.Layer s = a.layers[l];
        Weights.Layer p = params.layers[l];
        int C = config.hidden(), H = config.heads(), KV = config.kvHeads(), D = config.headDim();
        boolean pre = config.preNorm();
        Slice attnIn = in;
        if (pre) {
            norm(s.norm1, s.mean1, s.rstd1, in, p.norm1W(), p.norm1B());
            attnIn = s.norm1;
        }
        kernels.matmulForward(s.qkv, attnIn, p.qkvW(), p.qkvB(), T, C, config.qkvDim());
        if (ropeCos != null) kernels.ropeForward(s.qkv, ropeCos, ropeSin, T, H, KV, D);
        Slice attDrop = training ? s.attDrop : null;
        if (attDrop != null) kernels.dropoutMask(attDrop, H * T * T, config.attentionDropout(), nextDropoutSeed());
        kernels.attentionForward(s.attY, s.att, s.qkv, attDrop, T, H, KV, D, config.family().isDecoder());
        kernels.matmulForward(s.attnProj, s.attY, p.attnOutW(), p.attnOutB(), T, config.attentionDim(), C);
        dropout(s.attnProj, s.attnDrop, config.residualDropout(), T * C);
        kernels.add(s.res1, in, s.attnProj, T * C);
        Slice mlpIn;
        if (pre) {
            norm(s.norm2, s.mean2, s.rstd2, s.res1, p.norm2W(), p.norm2B());
            mlpIn = s.norm2;
        } else {
            norm(s.norm1, s.mean1, s.rstd1, s.res1, p.norm1W(), p.norm1B());
            mlpIn = s.norm1;
        }
        kernels.matmulForward(s.fc, mlpIn, p.fcW(), p.fcB(), T, C, config.mlpInDim());
        if (config.gatedMlp()) {
            kernels.swigluForward(s.act, s.fc, T, config.intermediate());
        } else {
            kernels.activationForward(config.activation(), s.act, s.fc, T * config.intermediate());
        }
        kernels.matmulForward(s.mlpProj, s.act, p.projW(), p.projB(), T, config.intermediate(), C);
        dropout(s.mlpProj, s.mlpDrop, config.residualDropout(), T * C);
        kernels.add(s.res2, pre ? s.res1 : s.norm1, s.mlpProj, T * C);
        if (pre) return s.res2;
        norm(s.norm2, s.mean2, s.rstd2, s.res2, p.norm2W(), p.norm2B());
        return s.norm2;
    }

    private void norm(Slice out, Slice mean, Slice rstd, Slice in, Slice w, Slice b) {
        if (config.rmsNorm()) {
            kernels.rmsNormForward(out, rstd, in, w, T, config.hidden(), config.normEps());
        } else {
            kernels.layerNormForward(out, mean, rstd, in, w, b, T, config.hidden(), config.normEps());
        }
    }

    private void dropout(Slice x, Slice mask, float p, int n) {
        if (training && mask != null) {
            kernels.dropoutMask(mask, n, p, nextDropoutSeed());
            kernels.multiply(x, mask, n);
        }
    }

    private long nextDropoutSeed() {
        long z = dropoutSeed + 0x9E3779B97F4A7C15L * ++dropoutCalls;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 27);
    }

    /** The final hidden states [T, embedDim] of the last forward pass. */
    public Slice hidden() {
        if (config.projects()) return a.out;
        if (a.finalNorm != null) return a.finalNorm;
        return outputOfBlocks();
    }

    private Slice outputOfBlocks() {
        if (a.layers.length == 0) return a.embNorm != null ? a.embNorm : a.x0;
        Activations.Layer last = a.layers[a.layers.length - 1];
        return config.preNorm() ? last.res2 : last.norm2;
    }

    // ------------------------------------------------------------------ heads

    /** LM-head logits [n, vocab] at the given positions of the last forward pass. */
    public Slice lmLogits(int[] rows, int n) {
        if (a.logits == null) throw new SlimException(config.file() + ": a " + config.family().modelType() + " model has no LM head");
        if (n > a.headIn.length() / config.embedDim()) throw new IllegalArgumentException("head rows " + n + " exceed the model's maxHeadRows");
        int P = config.embedDim(), V = config.vocab();
        for (int i = 0; i < n; i++) {
            if (rows[i] < 0 || rows[i] >= T) throw new IllegalArgumentException("head position " + rows[i] + " outside 0.." + (T - 1));
        }
        kernels.gatherRows(a.headIn, hidden(), rows, n, P);
        kernels.matmulForward(a.logits, a.headIn, params.lmHead, null, n, P, V);
        headRows = rows;
        headCount = n;
        classHead = false;
        kernels.read(a.logits);
        return a.logits;
    }

    /** Classification logits [numLabels] from the `score` head on the pooled final hidden state. */
    public Slice classLogits() {
        int L = layout.numLabels(), P = config.embedDim();
        if (L == 0) throw new IllegalStateException("model was loaded without a classification head");
        switch (pooling) {
            case LAST -> kernels.copy(a.pooled, hidden().sub((T - 1) * P, P), P);
            case FIRST -> kernels.copy(a.pooled, hidden(), P);
            case MEAN -> kernels.meanRowsForward(a.pooled, hidden(), T, P);
        }
        kernels.matmulForward(a.classLogits, a.pooled, params.score, null, 1, P, L);
        classHead = true;
        headCount = 1;
        headRows = null;
        kernels.read(a.classLogits);
        return a.classLogits;
    }

    /**
     * Mean cross-entropy of the last head's rows against targets; candidates (nullable) restricts
     * the softmax to those columns (e.g. the label words).
     */
    public float loss(int[] targets, int[] candidates) {
        lossTargets = targets;
        lossCandidates = candidates;
        if (classHead) {
            return kernels.crossEntropyForward(a.classProbs, a.classLogits, targets, candidates, 1, layout.numLabels());
        }
        if (headRows == null) throw new IllegalStateException("no head was computed since the last forward pass");
        return kernels.crossEntropyForward(a.probs, a.logits, targets, candidates, headCount, config.vocab());
    }

    // ------------------------------------------------------------------ backward

    /** Adds the gradient of the last loss to {@link #grads()} (call {@link #zeroGrad()} between steps). */
    public void backward() {
        if (grads == null) throw new IllegalStateException("model was loaded without gradients");
        if (lossTargets == null) throw new IllegalStateException("backward needs a loss first");
        gradsZero = false;
        int C = config.hidden(), P = config.embedDim();
        Slice dFinal = a.dOut;
        kernels.zero(dFinal, T * P);
        if (classHead) {
            int L = layout.numLabels();
            kernels.crossEntropyBackward(a.dClassLogits, a.classProbs, lossTargets, lossCandidates, 1, L);
            kernels.zero(a.dPooled, P);
            kernels.matmulBackward(a.dPooled, grads.score, null, a.dClassLogits, a.pooled, params.score, 1, P, L);
            switch (pooling) {
                case LAST -> kernels.copy(dFinal.sub((T - 1) * P, P), a.dPooled, P);
                case FIRST -> kernels.copy(dFinal, a.dPooled, P);
                case MEAN -> kernels.meanRowsBackward(dFinal, a.dPooled, T, P);
            }
        } else {
            int V = config.vocab();
            kernels.crossEntropyBackward(a.dLogits, a.probs, lossTargets, lossCandidates, headCount, V);
            kernels.zero(a.dHeadIn, headCount * P);
            kernels.matmulBackward(a.dHeadIn, grads.lmHead, null, a.dLogits, a.headIn, params.lmHead, headCount, P, V);
            kernels.scatterAddRows(dFinal, a.dHeadIn, headRows, headCount, P);
        }
        // final projection and norm
        Slice dNormOut = dFinal;
        if (config.projects()) {
            dNormOut = a.dFinalNorm;
            kernels.zero(dNormOut, T * C);
            kernels.matmulBackward(dNormOut, grads.projectOut, null, dFinal, a.finalNorm != null ? a.finalNorm : outputOfBlocks(),
                    params.projectOut, T, C, P);
        }
        Slice dh = a.dHidden;
        if (a.finalNorm != null) {
            kernels.zero(dh, T * C);
            normBackward(dh, grads.finalNormW, grads.finalNormB, dNormOut, outputOfBlocks(), params.finalNormW,
                    a.finalMean, a.finalRstd);
        } else {
            kernels.copy(dh, dNormOut, T * C);
        }
        for (int l = a.layers.length - 1; l >= 0; l--) blockBackward(l, dh);
        // embeddings
        if (a.x0Drop != null && training) kernels.multiply(dh, a.x0Drop, T * C);
        Slice dx0 = dh;
        if (a.embNorm != null) {
            dx0 = a.dRes;
            kernels.zero(dx0, T * C);
            kernels.layerNormBackward(dx0, grads.embNormW, grads.embNormB, dh, a.x0, params.embNormW, a.embMean,
                    a.embRstd, T, C);
        }
        if (params.wpe != null) kernels.embeddingBackward(grads.wpe, dx0, positions, T, C);
        if (params.wtt != null) kernels.embeddingBackward(grads.wtt, dx0, tokenTypes, T, C);
        if (config.projects()) {
            kernels.zero(a.dTokenEmb, T * P);
            kernels.matmulBackward(a.dTokenEmb, grads.projectIn, null, dx0, a.tokenEmb, params.projectIn, T, P, C);
            kernels.embeddingBackward(grads.wte, a.dTokenEmb, tokens, T, P);
        } else {
            kernels.embeddingBackward(grads.wte, dx0, tokens, T, C);
        }
    }

    /** dh holds d(block output) on entry and d(block input) on return. */
    private void blockBackward(int l, Slice dh) {
        Activations.Layer s = a.layers[l];
        Weights.Layer p = params.layers[l], g = grads.layers[l];
        int C = config.hidden(), H = config.heads(), KV = config.kvHeads(), D = config.headDim();
        int I = config.intermediate(), TC = T * C;
        Slice in = l == 0 ? (a.embNorm != null ? a.embNorm : a.x0) : blockOutput(l - 1);
        boolean pre = config.preNorm();
        // d(res2): the residual sum after the MLP
        Slice dRes2;
        if (pre) {
            dRes2 = dh;
        } else {
            dRes2 = a.dRes;
            kernels.zero(dRes2, TC);
            normBackward(dRes2, g.norm2W(), g.norm2B(), dh, s.res2, p.norm2W(), s.mean2, s.rstd2);
        }
        // MLP
        Slice mlpIn = pre ? s.norm2 : s.norm1;
        Slice dMlpBase = pre ? a.dRes : a.dNorm; // gradient of res1 (pre) or norm1 (post)
        kernels.copy(dMlpBase, dRes2, TC);
        kernels.copy(a.dProj, dRes2, TC);
        if (s.mlpDrop != null && training) kernels.multiply(a.dProj, s.mlpDrop, TC);
        kernels.zero(a.dAct, T * I);
        kernels.matmulBackward(a.dAct, g.projW(), g.projB(), a.dProj, s.act, p.projW(), T, I, C);
        if (config.gatedMlp()) {
            kernels.swigluBackward(a.dFc, s.fc, a.dAct, T, I);
        } else {
            kernels.zero(a.dFc, T * I);
            kernels.activationBackward(config.activation(), a.dFc, s.fc, a.dAct, T * I);
        }
        if (pre) {
            kernels.zero(a.dNorm, TC);
            kernels.matmulBackward(a.dNorm, g.fcW(), g.fcB(), a.dFc, mlpIn, p.fcW(), T, C, config.mlpInDim());
            normBackward(a.dRes, g.norm2W(), g.norm2B(), a.dNorm, s.res1, p.norm2W(), s.mean2, s.rstd2);
        } else {
            kernels.matmulBackward(a.dNorm, g.fcW(), g.fcB(), a.dFc, mlpIn, p.fcW(), T, C, config.mlpInDim());
            kernels.zero(a.dRes, TC);
            normBackward(a.dRes, g.norm1W(), g.norm1B(), a.dNorm, s.res1, p.norm1W(), s.mean1, s.rstd1);
        }
        // a.dRes now holds d(res1); attention
        kernels.copy(a.dProj, a.dRes, TC);
        if (s.attnDrop != null && training) kernels.multiply(a.dProj, s.attnDrop, TC);
        kernels.zero(a.dAttY, T * config.attentionDim());
        kernels.matmulBackward(a.dAttY, g.attnOutW(), g.attnOutB(), a.dProj, s.attY, p.attnOutW(), T, config.attentionDim(), C);
        kernels.attentionBackward(a.dQkv, a.dAtt, a.dAttY, s.qkv, s.att, training ? s.attDrop : null, T, H, KV, D,
                config.family().isDecoder());
        if (ropeCos != null) kernels.ropeBackward(a.dQkv, ropeCos, ropeSin, T, H, KV, D);
        // d(input) = d(res1) through the residual, plus the attention branch
        kernels.copy(dh, a.dRes, TC);
        if (pre) {
            kernels.zero(a.dNorm, TC);
            kernels.matmulBackward(a.dNorm, g.qkvW(), g.qkvB(), a.dQkv, s.norm1, p.qkvW(), T, C, config.qkvDim());
            normBackward(dh, g.norm1W(), g.norm1B(), a.dNorm, in, p.norm1W(), s.mean1, s.rstd1);
        } else {
            kernels.matmulBackward(dh, g.qkvW(), g.qkvB(), a.dQkv, in, p.qkvW(), T, C, config.qkvDim());
        }
    }

    private Slice blockOutput(int l) {
        Activations.Layer s = a.layers[l];
        return config.preNorm() ? s.res2 : s.norm2;
    }

    private void normBackward(Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean, Slice rstd) {
        if (config.rmsNorm()) {
            kernels.rmsNormBackward(dinp, dw, dout, inp, w, rstd, T, config.hidden());
        } else {
            kernels.layerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd, T, config.hidden());
        }
    }

    /** Zeroes the gradients, unless they are zero already (an AdamW step consumes them). */
    public void zeroGrad() {
        if (gradsZero) return;
        kernels.zero(grads.all, grads.all.length());
        gradsZero = true;
    }

    /** Tells the model that its gradients were zeroed outside zeroGrad (by the optimiser's kernel). */
    public void gradientsZeroed() {
        gradsZero = true;
    }

    /** Number of parameters held (the first-k model plus any classification head). */
    public long parameterCount() {
        return layout.size();
    }
}
