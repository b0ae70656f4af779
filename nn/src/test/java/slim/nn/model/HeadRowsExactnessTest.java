package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.nn.model.Golden.assertClose;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import slim.nn.Shared;
import slim.nn.Slice;

/**
 * The passes that compute less give what the full pass gives, up to fp32 rounding: the last block over the head's
 * rows only (logits, loss and every gradient, with the config's dropout on and off), evaluation after a
 * cached prefix (logits), and several examples stacked in one evaluation pass. On every golden checkpoint, stories260K and all-MiniLM-L6-v2, each kept whole and cut
 * to its first layer.
 */
class HeadRowsExactnessTest {
    private static final int T = 12, LABELS = 3;

    @TestFactory
    Stream<DynamicNode> everyModel() throws IOException {
        List<Path> models = new ArrayList<>(Golden.folders("slim.golden", "golden"));
        models.addAll(Golden.folders("slim.golden.encoders", "golden-encoders"));
        models.add(Shared.resolve("models/stories260K"));
        models.add(Shared.resolve("models/all-MiniLM-L6-v2"));
        assertTrue(models.size() >= 7, "expected the golden folders and both built-in models, found " + models);
        return models.stream().map(dir -> {
            ModelConfig config = ModelConfig.read(dir);
            List<DynamicTest> tests = new ArrayList<>();
            for (int keep : new int[] {1, config.layers()}) {
                String k = " (k = " + keep + ")";
                if (config.family().isDecoder()) {
                    tests.add(DynamicTest.dynamicTest("LM head at the last row" + k, () -> {
                        sameTraining(load(dir, keep, 0, Pooling.LAST), false, true);
                        sameTraining(load(dir, keep, 0, Pooling.LAST), false, false);
                    }));
                    tests.add(DynamicTest.dynamicTest(
                            "score head, last-token pooling" + k,
                            () -> sameTraining(load(dir, keep, LABELS, Pooling.LAST), true, true)));
                    tests.add(DynamicTest.dynamicTest(
                            "cached prefix" + k, () -> samePredictionsAfterPrefix(load(dir, keep, 0, Pooling.LAST))));
                    tests.add(DynamicTest.dynamicTest("stacked examples" + k, () -> {
                        sameLogitsStacked(load(dir, keep, 0, Pooling.LAST), false);
                        sameLogitsStacked(load(dir, keep, LABELS, Pooling.LAST), true);
                    }));
                } else {
                    for (Pooling pooling : new Pooling[] {Pooling.FIRST, Pooling.MEAN}) {
                        tests.add(DynamicTest.dynamicTest(
                                "score head, " + pooling + " pooling" + k,
                                () -> sameTraining(load(dir, keep, LABELS, pooling), true, true)));
                    }
                    tests.add(DynamicTest.dynamicTest("no cached prefix or stack for an encoder" + k, () -> {
                        Model m = load(dir, keep, LABELS, Pooling.FIRST);
                        m.eval();
                        assertThrows(IllegalStateException.class, () -> m.cachePrefix(ids(m, 1), 4));
                        assertThrows(IllegalStateException.class, () -> m.stack(LABELS));
                    }));
                }
            }
            return DynamicContainer.dynamicContainer(dir.getFileName().toString(), tests);
        });
    }

    private static Model load(Path dir, int keep, int labels, Pooling pooling) {
        return ModelFiles.load(
                dir,
                keep,
                ModelFiles.Options.builder()
                        .trainable()
                        .maxTokens(T)
                        .headRows(1)
                        .labels(labels, pooling, 5)
                        .build());
    }

    private static int[] ids(Model m, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[T];
        for (int t = 0; t < T; t++) ids[t] = r.nextInt(m.config().vocab());
        return ids;
    }

    /** What one training example gives: the head's logits, the loss and the whole gradient block. */
    private record Step(float[] logits, float loss, float[] grads) {}

    private static Step step(Model m, int[] ids, Rows rows, boolean classHead, boolean dropout) {
        if (dropout) m.train(11);
        else m.eval();
        m.zeroGrad();
        m.forward(ids, rows);
        Slice logits = classHead ? m.classLogits() : m.lmLogits(new int[] {T - 1}, 1);
        float[] out = logits.sub(0, classHead ? LABELS : m.config().vocab()).toArray();
        float loss = m.loss(new int[] {classHead ? 2 : 7}, null);
        m.backward();
        m.kernels().read(m.grads().all);
        return new Step(out, loss, m.grads().all.toArray());
    }

    /** Two training steps, the second after an update of every weight, each on the full rows and the head's. */
    private static void sameTraining(Model m, boolean classHead, boolean dropout) {
        Rows head = classHead ? m.pooling().rows(T) : Rows.all(T).lastRow();
        for (long example = 1; example <= 2; example++) {
            int[] ids = ids(m, example);
            Step full = step(m, ids, Rows.all(T), classHead, dropout);
            Step less = step(m, ids, head, classHead, dropout);
            assertClose(full.logits(), less.logits(), "logits");
            Golden.assertClose(full.loss(), less.loss(), "loss");
            assertClose(full.grads(), less.grads(), "gradients");
            float[] w = m.params().block;
            for (int i = 0; i < w.length; i++) w[i] -= 1e-2f * full.grads()[i];
            m.kernels().write(m.params().all);
        }
    }

    /** Sequences that share their first P tokens predict the same after the prefix is cached as in full. */
    private static void samePredictionsAfterPrefix(Model m) {
        m.eval();
        int P = T / 2;
        int[][] sequences = {ids(m, 1), ids(m, 2), ids(m, 3)};
        for (int[] s : sequences) System.arraycopy(sequences[0], 0, s, 0, P);
        float[][] full = new float[sequences.length][];
        for (int i = 0; i < sequences.length; i++) {
            m.forward(sequences[i], Rows.all(T));
            full[i] =
                    m.lmLogits(new int[] {T - 1}, 1).sub(0, m.config().vocab()).toArray();
        }
        m.cachePrefix(sequences[0], P);
        for (int i = 0; i < sequences.length; i++) {
            m.forward(sequences[i], Rows.all(T).lastRow().afterPrefix(P));
            assertClose(
                    full[i],
                    m.lmLogits(new int[] {T - 1}, 1).sub(0, m.config().vocab()).toArray(),
                    "logits after the cached prefix, sequence " + i);
            int[] columns = {7, 2, 11};
            float[] picked = new float[columns.length];
            for (int c = 0; c < columns.length; c++) picked[c] = full[i][columns[c]];
            assertClose(picked, m.lmLogitColumns(T - 1, columns).toArray(), "label columns, sequence " + i);
        }
        int[] other = ids(m, 9);
        assertThrows(
                IllegalStateException.class,
                () -> m.forward(other, Rows.all(T).lastRow().afterPrefix(P)),
                "a sequence that does not start with the cached prefix");
        assertThrows(
                IllegalArgumentException.class,
                () -> m.lmLogits(new int[] {T - 2}, 1),
                "a row the pass did not compute");
    }

    /**
     * Sequences of different lengths stacked in one pass give the logits each gives in a full pass of its own: after
     * a cached prefix they all share, after the part of it that a sequence cut short shares (a stack of their own,
     * as evaluation runs them), and with nothing cached. The LM head's label columns, or the score head's logits.
     */
    private static void sameLogitsStacked(Model m, boolean classHead) {
        m.eval();
        int P = 5, cut = 3;
        int[] columns = {7, 2, 11};
        int[][] sequences = {ids(m, 1), ids(m, 2), ids(m, 3), ids(m, 4), ids(m, 5)};
        int[] lengths = {T, 9, P + 1, 7, T - 1};
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = Arrays.copyOf(sequences[i], lengths[i]);
            System.arraycopy(sequences[0], 0, sequences[i], 0, i == 4 ? cut : P);
        }
        sequences[4][cut] = sequences[0][cut] + 1 == m.config().vocab() ? 0 : sequences[0][cut] + 1;
        int classes = classHead ? LABELS : columns.length;
        float[][] full = new float[sequences.length][];
        for (int i = 0; i < sequences.length; i++) {
            int last = sequences[i].length - 1;
            m.forward(sequences[i], Rows.all(last + 1));
            Slice logits = classHead ? m.classLogits() : m.lmLogits(new int[] {last}, 1);
            full[i] = new float[classes];
            for (int c = 0; c < classes; c++) full[i][c] = logits.get(classHead ? c : columns[c]);
        }
        Stack stack = m.stack(classes);
        m.cachePrefix(sequences[0], P);
        assertStacked(m, stack, sequences, new int[] {0, 1, 2, 3}, P, full, columns, classHead);
        assertFalse(stack.add(sequences[4], cut), "a sequence taking fewer tokens from the cache joins another stack");
        assertStacked(m, stack, sequences, new int[] {4, 1, 3}, cut, full, columns, classHead);
        assertStacked(m, stack, sequences, new int[] {2, 4, 0}, 0, full, columns, classHead);
    }

    /** Stacks the chosen sequences with `cached` tokens from the cache and compares their logits with full's. */
    private static void assertStacked(
            Model m,
            Stack stack,
            int[][] sequences,
            int[] chosen,
            int cached,
            float[][] full,
            int[] columns,
            boolean classHead) {
        stack.clear();
        for (int i : chosen) assertTrue(stack.add(sequences[i], cached), "sequence " + i + " fits");
        assertEquals(chosen.length, stack.examples());
        m.forward(stack);
        Slice logits = classHead ? m.classLogits(stack) : m.lmLogitColumns(stack, columns);
        int classes = full[0].length;
        for (int e = 0; e < chosen.length; e++) {
            assertClose(
                    full[chosen[e]],
                    logits.sub(e * classes, classes).toArray(),
                    "sequence " + chosen[e] + " stacked " + e + " of " + chosen.length + " after " + cached);
        }
    }
}
