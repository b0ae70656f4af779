package slim.nn.model;

import java.nio.file.Path;
import java.util.Locale;
import slim.nn.SlimException;

/**
 * What a model will hold in the heap, estimated from its layout before anything large is allocated, so that a
 * model too large for the JVM is refused with a sentence instead of an OutOfMemoryError halfway through loading.
 * It counts the parameter block (and, to train, its gradients and AdamW's two moments) and the activations a step
 * keeps: per kept layer the residual-stream copies, q/k/v, the attention scores (and their dropout mask), the MLP's
 * intermediates; once the backward scratch and the head's logits, and a decoder's stacked evaluation rows.
 *
 * @param parameterBytes the parameter block, times four when trained
 * @param activationBytes the activations and backward scratch
 * @param largestArray   floats in the largest single array (Java arrays hold fewer than 2^31)
 */
public record MemoryCheck(long parameterBytes, long activationBytes, long largestArray) {
    private static final double GIB = 1L << 30;

    public static MemoryCheck of(ParamLayout layout, int maxTokens, int maxHeadRows, boolean trainable) {
        ModelConfig c = layout.config();
        long t = maxTokens, tc = t * c.hidden(), scores = (long) c.heads() * t * t;
        long qkv = t * c.qkvDim(), mlp = t * c.mlpInDim() + t * c.intermediate() + t * c.attentionDim();
        long logits = (long) Math.max(1, maxHeadRows) * c.vocab();
        boolean attnDropout = trainable && c.attentionDropout() > 0;
        long perLayer = rowFloats(c, t) + (attnDropout ? 2 : 1) * scores;
        long scratch = trainable ? 6 * tc + qkv + mlp + scores + logits : 0;
        long floats = layout.keptLayers() * perLayer + 3 * tc + 2 * logits + scratch + stackFloats(c, maxTokens);
        long largest = Math.max(Math.max(scores, logits), Math.max(t * c.mlpInDim(), qkv));
        return new MemoryCheck(4L * layout.size() * (trainable ? 4 : 1), 4 * floats, largest);
    }

    /** One block's row buffers over t rows: residual-stream copies, q/k/v, the MLP's intermediates. */
    private static long rowFloats(ModelConfig c, long t) {
        return 8 * t * c.hidden() + t * c.qkvDim() + t * (c.mlpInDim() + c.intermediate() + c.attentionDim());
    }

    /**
     * A decoder's evaluation {@link Stack}: one block's row buffers, the embeddings and the final norm over its
     * rows (its heads' few floats per class aside).
     */
    private static long stackFloats(ModelConfig c, int maxTokens) {
        if (!c.family().isDecoder()) return 0;
        long rows = Stack.capacity(maxTokens);
        return rowFloats(c, rows) + 3 * rows * c.hidden();
    }

    public long totalBytes() {
        return parameterBytes + activationBytes;
    }

    /** Refuses (naming the model folder) what the heap cannot take now, with what would make it fit. */
    public void requireFits(Path model) {
        if (largestArray > Integer.MAX_VALUE - 16) {
            throw new SlimException(model + ": activations for this many tokens need an array of " + largestArray
                    + " floats, more than Java arrays hold (2^31); use shorter sequences");
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (totalBytes() > free) {
            throw new SlimException(String.format(
                    Locale.ROOT,
                    "%s: the model needs about %.2f GiB (parameters %.2f GiB,"
                            + " activations %.2f GiB) but the JVM has %.2f GiB free; give it more"
                            + " (SLIM_JAVA_OPTS=-Xmx...),"
                            + " keep fewer layers or use shorter sequences",
                    model,
                    totalBytes() / GIB,
                    parameterBytes / GIB,
                    activationBytes / GIB,
                    free / GIB));
        }
    }
}
