package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.kernels.CpuKernels;
import slim.nn.optim.AdamW;

/**
 * An AdamW step leaves every gradient zero, the frozen ones included, so the next backward starts
 * from zero although zeroGrad then skips its pass (GoldenTest's three AdamW steps check that the
 * steps themselves stay right).
 */
class AdamWConsumesGradientsTest {

    @Test
    void stepLeavesEveryGradientZero() {
        Path dir = Shared.resolve("golden").resolve("gpt2-tiny");
        Model m = GoldenTest.load(dir, 2, 0, 1, CpuKernels::new);
        int[] ids = {5, 17, 3, 42, 8};
        AdamW opt = AdamW.withDefaults(m, 1e-3f);
        int frozen = m.params().wte.length(); // the word embeddings come first in the block
        opt.freezeLeading(frozen);
        float[] before = m.params().block.clone();
        m.zeroGrad();
        m.forward(ids, ids.length);
        m.lmLogits(new int[] {ids.length - 1}, 1);
        m.loss(new int[] {7}, null);
        m.backward();
        assertTrue(nonZero(m.grads().block, 0, frozen) > 0, "the frozen tensor has a gradient to clear");
        assertTrue(nonZero(m.grads().block, frozen, m.grads().block.length) > 0, "the trained ones too");
        opt.step();
        assertEquals(0, nonZero(m.grads().block, 0, m.grads().block.length), "gradients left after the step");
        assertEquals(0, changed(before, m.params().block, 0, frozen), "frozen parameters moved");
        assertTrue(changed(before, m.params().block, frozen, before.length) > 0, "the step changed nothing");
    }

    private static int nonZero(float[] x, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) if (x[i] != 0f) n++;
        return n;
    }

    private static int changed(float[] a, float[] b, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
