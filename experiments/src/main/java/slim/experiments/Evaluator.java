package slim.experiments;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import slim.data.EncodedExample;
import slim.nn.kernels.Kernels;
import slim.nn.model.Model;
import slim.nn.model.Stack;

/**
 * Measures a classifier's accuracy while the weights stay fixed: dropout off and, for decoders, the prompt prefix
 * the examples of the pass share (the demonstrations of lm-prompt and cls-prompt) run once per pass. Its keys and
 * values are cached for every kept layer and each example runs only its own tokens, at the positions after the
 * part of the prefix it shares, attending to the cache. Shared means equal token ids, not equal text, so neither
 * truncation nor a tokenizer merge at the boundary can make it wrong. A prompt whose demonstrations were cut to
 * fit the length limit shares less than the others; it still reuses what it shares, and runs after the prompts
 * that share more (each pass over a shorter shared part overwrites the cache beyond it). Encoders attend both ways
 * and always run the whole prompt.
 *
 * <p>A decoder's examples run several per pass ({@link Stack}): those that take the same number of tokens from the
 * cache, up to the stack's rows, their own rows stacked so that the matrix products run over all of them at once
 * (attention per example). Without the prefix cache, and for encoders, each example runs alone: the comparison
 * path, and an encoder's pooling reads rows other than the last.
 */
public final class Evaluator {
    /** Prompts a candidate prefix is compared with to pick the one most prompts share. */
    private static final int SAMPLE = 16;

    private final Classifier classifier;
    private final boolean prefixCache;
    /** Where a pass stacks its examples; null: one example per pass. */
    private final Stack stack;

    private int prefixTokens, passes;

    /**
     * @param prefixCache cache the shared prefix and stack several examples per pass (false: every example runs its
     *                    whole prompt alone, for comparison)
     */
    public Evaluator(Classifier classifier, boolean prefixCache) {
        this(classifier, prefixCache, true);
    }

    /** @param stack several examples per pass where the classifier allows (false: one, to compare with) */
    Evaluator(Classifier classifier, boolean prefixCache, boolean stack) {
        this.classifier = classifier;
        this.prefixCache = prefixCache;
        this.stack = prefixCache && stack && classifier.stacks() ? classifier.stack() : null;
    }

    /** Fraction of the examples the classifier gets right. */
    public double accuracy(List<EncodedExample> examples, String part, Trainer.Listener listener) {
        return predictions(examples, part, listener).accuracy();
    }

    /** Each example's class probabilities and predicted class (their arg-max), in one evaluation pass. */
    public Predictions predictions(List<EncodedExample> examples, String part, Trainer.Listener listener) {
        // The weights do not change during the pass: the kernels may keep what they derive from them (the CPU's
        // packed weights) for every example instead of deriving it per forward.
        try (Kernels.Fixed _ = classifier.model().kernels().weightsFixed()) {
            return predictionsWithFixedWeights(examples, part, listener);
        }
    }

    private Predictions predictionsWithFixedWeights(
            List<EncodedExample> examples, String part, Trainer.Listener listener) {
        Model model = classifier.model();
        model.eval();
        int n = examples.size();
        int[] shared = new int[n];
        prefixTokens = 0;
        if (prefixCache && model.config().family().isDecoder() && n > 1) {
            int[] prefix = examples.get(representative(examples)).ids();
            for (int i = 0; i < n; i++)
                shared[i] = common(prefix, examples.get(i).ids());
            // the cache holds what at least two prompts share, so that it saves more than it costs
            prefixTokens = IntStream.of(shared).sorted().skip(n - 2).findFirst().orElse(0);
            for (int i = 0; i < n; i++) shared[i] = Math.min(shared[i], prefixTokens);
            if (prefixTokens > 0) model.cachePrefix(prefix, prefixTokens);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -shared[i]));
        int[] labels = new int[n], predicted = new int[n];
        float[][] probabilities = new float[n][classifier.numLabels()];
        passes = 0;
        for (int done = 0; done < n; passes++) {
            for (int next = pass(examples, order, done, shared, probabilities); done < next; done++) {
                listener.evaluating(part, done + 1, n);
            }
        }
        for (int i = 0; i < n; i++) {
            float[] p = probabilities[i];
            for (int c = 1; c < p.length; c++) if (p[c] > p[predicted[i]]) predicted[i] = c;
            labels[i] = examples.get(i).label();
        }
        return new Predictions(labels, predicted, probabilities);
    }

    /**
     * One forward pass over the examples order[from...) that fit it, their probabilities into out; returns where
     * the next pass starts.
     */
    private int pass(List<EncodedExample> examples, Integer[] order, int from, int[] shared, float[][] out) {
        if (stack == null) {
            int i = order[from];
            classifier.probabilities(examples.get(i).ids(), shared[i], out[i]);
            return from + 1;
        }
        stack.clear();
        int to = from;
        while (to < order.length && stack.add(examples.get(order[to]).ids(), shared[order[to]])) to++;
        float[][] stacked = new float[to - from][];
        for (int e = 0; e < stacked.length; e++) stacked[e] = out[order[from + e]];
        classifier.probabilities(stack, stacked);
        return to;
    }

    /** Forward passes the last evaluation ran (fewer than its examples where it stacked them). */
    int passes() {
        return passes;
    }

    /** Tokens the last pass cached (0 when none). */
    public int prefixTokens() {
        return prefixTokens;
    }

    /**
     * The example whose prompt shares the most leading tokens with a sample of the others: one with its
     * demonstrations whole, when a few were cut to fit the length limit.
     */
    static int representative(List<EncodedExample> examples) {
        int n = examples.size(), stride = Math.max(1, n / SAMPLE), best = 0;
        long bestScore = -1;
        for (int c = 0; c < n; c++) {
            long score = 0;
            for (int s = 0; s < n; s += stride)
                score += common(examples.get(c).ids(), examples.get(s).ids());
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    /** Leading tokens a and b share, leaving b at least its last token to run (the head reads that row). */
    static int common(int[] a, int[] b) {
        int limit = Math.min(a.length, b.length - 1), differ = Arrays.mismatch(a, 0, limit, b, 0, limit);
        return differ < 0 ? limit : differ;
    }
}
