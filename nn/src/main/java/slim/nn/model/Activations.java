package slim.nn.model;

import slim.nn.Slice;

/**
 * Every intermediate a step keeps for backward, allocated once for the longest sequence the model
 * will see and reused by every step; plus the scratch of backward, shared by all layers.
 */
final class Activations {

    /** One block's saved intermediates, sized for maxT rows. */
    static final class Layer {
        final Slice norm1, mean1, rstd1, qkv, att, attDrop, attY, attnProj, attnDrop, res1;
        final Slice norm2, mean2, rstd2, fc, act, mlpProj, mlpDrop, res2;

        /** @param scores hold attention scores [H, maxT, maxT] (a stacked pass uses the model's own layers') */
        Layer(ModelConfig c, int maxT, boolean scores, boolean attnDropout, boolean residDropout) {
            int tc = maxT * c.hidden(), att = scores ? c.heads() * maxT * maxT : 0;
            norm1 = Slice.allocate(tc);
            mean1 = Slice.allocate(maxT);
            rstd1 = Slice.allocate(maxT);
            qkv = Slice.allocate(maxT * c.qkvDim());
            this.att = scores ? Slice.allocate(att) : null;
            attDrop = attnDropout ? Slice.allocate(att) : null;
            attY = Slice.allocate(maxT * c.attentionDim());
            attnProj = Slice.allocate(tc);
            attnDrop = residDropout ? Slice.allocate(tc) : null;
            res1 = Slice.allocate(tc);
            norm2 = Slice.allocate(tc);
            mean2 = Slice.allocate(maxT);
            rstd2 = Slice.allocate(maxT);
            fc = Slice.allocate(maxT * c.mlpInDim());
            act = Slice.allocate(maxT * c.intermediate());
            mlpProj = Slice.allocate(tc);
            mlpDrop = residDropout ? Slice.allocate(tc) : null;
            res2 = Slice.allocate(tc);
        }

        /** A block's row buffers for evaluation: no attention scores, no dropout masks. */
        static Layer rowsOnly(ModelConfig c, int rows) {
            return new Layer(c, rows, false, false, false);
        }
    }

    final int maxT;
    /** Token embeddings before project_in (OPT-350m shape only). */
    final Slice tokenEmb;
    /** The embedding sum entering the first block (before BERT's embedding norm). */
    final Slice x0, x0Drop;

    final Slice embNorm, embMean, embRstd;
    final Layer[] layers;
    final Slice finalNorm, finalMean, finalRstd;
    /** The final hidden states [T, embedDim] the heads read. */
    final Slice out;
    // heads
    final Slice headIn, logits, probs, pooled, classLogits, classProbs;
    /** Each head row's cross-entropy [maxHeadRows], left where the kernels wrote it until the host wants the loss. */
    final Slice losses;
    /** BERT's pooler: dense on [CLS] before tanh, and the dropout mask on its output. */
    final Slice poolerPre, pooledDrop;

    // backward scratch
    final Slice dHidden, dRes, dNorm, dProj, dQkv, dAtt, dAttY, dFc, dAct, dOut, dFinalNorm, dTokenEmb;
    final Slice dHeadIn, dLogits, dPooled, dClassLogits, dPoolerPre;

    Activations(
            ModelConfig c, int keptLayers, int maxT, int maxHeadRows, int numLabels, boolean pooler, boolean training) {
        this.maxT = maxT;
        int tc = maxT * c.hidden(), tp = maxT * c.embedDim();
        boolean embDropout = training && c.embeddingDropout() > 0;
        boolean residDropout = training && c.residualDropout() > 0;
        boolean attnDropout = training && c.attentionDropout() > 0;
        tokenEmb = c.projects() ? Slice.allocate(tp) : null;
        x0 = Slice.allocate(tc);
        x0Drop = embDropout ? Slice.allocate(tc) : null;
        embNorm = c.family() == Family.BERT ? Slice.allocate(tc) : null;
        embMean = Slice.allocate(maxT);
        embRstd = Slice.allocate(maxT);
        layers = new Layer[keptLayers];
        for (int l = 0; l < keptLayers; l++) layers[l] = new Layer(c, maxT, true, attnDropout, residDropout);
        finalNorm = c.finalNorm() ? Slice.allocate(tc) : null;
        finalMean = Slice.allocate(maxT);
        finalRstd = Slice.allocate(maxT);
        out = c.projects() ? Slice.allocate(tp) : null;
        headIn = Slice.allocate(maxHeadRows * c.embedDim());
        logits = c.family().isDecoder() ? Slice.allocate(maxHeadRows * c.vocab()) : null;
        probs = logits == null ? null : Slice.allocate(logits.length());
        pooled = Slice.allocate(c.embedDim());
        classLogits = Slice.allocate(Math.max(numLabels, 1));
        classProbs = Slice.allocate(Math.max(numLabels, 1));
        losses = Slice.allocate(Math.max(maxHeadRows, 1));
        poolerPre = pooler ? Slice.allocate(c.embedDim()) : null;
        pooledDrop = pooler && training && c.classifierDropout() > 0 ? Slice.allocate(c.embedDim()) : null;
        if (training) {
            dHidden = Slice.allocate(tc);
            dRes = Slice.allocate(tc);
            dNorm = Slice.allocate(tc);
            dProj = Slice.allocate(tc);
            dQkv = Slice.allocate(maxT * c.qkvDim());
            dAtt = Slice.allocate(c.heads() * maxT * maxT);
            dAttY = Slice.allocate(maxT * c.attentionDim());
            dFc = Slice.allocate(maxT * c.mlpInDim());
            dAct = Slice.allocate(maxT * c.intermediate());
            dOut = Slice.allocate(tp);
            dFinalNorm = c.projects() ? Slice.allocate(tc) : null;
            dTokenEmb = c.projects() ? Slice.allocate(tp) : null;
            dHeadIn = Slice.allocate(maxHeadRows * c.embedDim());
            dLogits = probs == null ? null : Slice.allocate(probs.length());
            dPooled = Slice.allocate(c.embedDim());
            dClassLogits = Slice.allocate(Math.max(numLabels, 1));
            dPoolerPre = pooler ? Slice.allocate(c.embedDim()) : null;
        } else {
            dHidden = dRes = dNorm = dProj = dQkv = dAtt = dAttY = dFc = dAct = dOut = dFinalNorm = dTokenEmb = null;
            dHeadIn = dLogits = dPooled = dClassLogits = dPoolerPre = null;
        }
    }
}
