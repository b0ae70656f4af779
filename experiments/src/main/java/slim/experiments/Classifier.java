package slim.experiments;

import slim.nn.Slice;
import slim.nn.model.Model;
import slim.nn.model.Pooling;
import slim.nn.model.Rows;
import slim.nn.model.Stack;

/**
 * Reads a class off a model, in either way the study does: the LM head's logits of the label tokens
 * at the last position (lm-prompt), or the `score` head (cls-prompt, cls-plain). Holds its few small
 * buffers so a training step allocates nothing.
 */
public final class Classifier {
    private final Model model;
    /** The label tokens in lm-prompt (class c is predicted by token labelTokens[c]); null for the score head. */
    private final int[] labelTokens;
    /** The columns the LM loss's softmax runs over: null for the whole vocabulary. */
    private final int[] lossColumns;
    /** The last block computes only the rows the head reads (false: every row, the full computation). */
    private final boolean headRowsOnly;

    private final int[] row = new int[1], target = new int[1];

    /**
     * @param labelTokens    the label tokens (lm-prompt), or null to use the classification head
     * @param labelWordsLoss lm-prompt: restrict the training loss to the label tokens
     */
    public Classifier(Model model, int[] labelTokens, boolean labelWordsLoss) {
        this(model, labelTokens, labelWordsLoss ? labelTokens : null, true);
    }

    private Classifier(Model model, int[] labelTokens, int[] lossColumns, boolean headRowsOnly) {
        this.model = model;
        this.labelTokens = labelTokens == null ? null : labelTokens.clone();
        this.lossColumns = labelTokens != null && lossColumns != null ? lossColumns.clone() : null;
        this.headRowsOnly = headRowsOnly;
    }

    /** The same classifier computing every row of every block: the full computation its results must equal. */
    public Classifier everyRow() {
        return new Classifier(model, labelTokens, lossColumns, false);
    }

    public Model model() {
        return model;
    }

    public int numLabels() {
        return labelTokens != null ? labelTokens.length : model.layout().numLabels();
    }

    /**
     * Forward pass and the cross-entropy for the example's class, left unread: call model.backward() and the
     * optimiser's step next, then model.lossValue() for the loss (a device backend then runs the whole step before
     * the host waits).
     */
    public void computeLoss(int[] ids, int label) {
        model.forward(ids, rows(ids.length));
        if (labelTokens != null) {
            row[0] = ids.length - 1;
            model.lmHead(row, 1);
            target[0] = labelTokens[label];
            model.computeLoss(target, lossColumns);
            return;
        }
        model.classHead();
        target[0] = label;
        model.computeLoss(target, null);
    }

    /** The predicted class: the arg-max over the label tokens' logits, or over the head's. */
    public int predict(int[] ids) {
        return predict(ids, 0);
    }

    /** As {@link #predict(int[])}, the first cached tokens of ids taken from the model's cached prefix. */
    public int predict(int[] ids, int cached) {
        Slice logits = logits(ids, cached);
        int best = 0;
        for (int c = 1; c < numLabels(); c++) if (logits.get(c) > logits.get(best)) best = c;
        return best;
    }

    /** The softmax over the classes' logits (only the label tokens' in lm-prompt), into out. */
    public void probabilities(int[] ids, float[] out) {
        probabilities(ids, 0, out);
    }

    /** As {@link #probabilities(int[], float[])}, the first cached tokens of ids from the model's cached prefix. */
    public void probabilities(int[] ids, int cached, float[] out) {
        softmax(logits(ids, cached), 0, out);
    }

    /** Whether {@link #probabilities(Stack, float[][])} serves this classifier: a decoder's head at the last row. */
    public boolean stacks() {
        return headRowsOnly
                && model.config().family().isDecoder()
                && (labelTokens != null || model.pooling() == Pooling.LAST);
    }

    /** A stack for this classifier's evaluation passes. */
    public Stack stack() {
        return model.stack(numLabels());
    }

    /** The class probabilities of every example in the stack, in one pass over them: out[e] for example e. */
    public void probabilities(Stack stack, float[][] out) {
        model.forward(stack);
        Slice logits = labelTokens == null ? model.classLogits(stack) : model.lmLogitColumns(stack, labelTokens);
        for (int e = 0; e < stack.examples(); e++) softmax(logits, e * numLabels(), out[e]);
    }

    /** out = the softmax of the numLabels logits from offset on. */
    private void softmax(Slice logits, int offset, float[] out) {
        int n = numLabels();
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < n; c++) max = Math.max(max, logits.get(offset + c));
        for (int c = 0; c < n; c++) sum += Math.exp(logits.get(offset + c) - max);
        for (int c = 0; c < n; c++) out[c] = (float) (Math.exp(logits.get(offset + c) - max) / sum);
    }

    /** The classes' logits [numLabels]: the label tokens' columns of the LM head (only those read back), or the
     * score head's. */
    private Slice logits(int[] ids, int cached) {
        model.forward(ids, rows(ids.length).afterPrefix(cached));
        if (labelTokens == null) return model.classLogits();
        return model.lmLogitColumns(ids.length - 1, labelTokens);
    }

    /** The rows a pass computes: the head's only, or every one. */
    private Rows rows(int T) {
        if (!headRowsOnly) return Rows.all(T);
        return labelTokens != null ? Rows.all(T).lastRow() : model.pooling().rows(T);
    }
}
