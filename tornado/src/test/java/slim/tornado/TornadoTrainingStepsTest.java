package slim.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.model.Model;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * Training steps of stories260K on the device against the CPU: TornadoKernels runs its recorded calls as
 * segment graphs from the first step on (its one plan is built at the first flush, with their graphs), the
 * losses of every step (each after the previous AdamW update) stay the CPU's, and a second instance takes the
 * plan as it is.
 */
class TornadoTrainingStepsTest {
    private static final int STEPS = 5, TOKENS = 24, K = 2;

    @BeforeAll
    static void runtime() {
        String missing = TornadoRuntime.missing();
        assumeTrue(missing == null, () -> "skipped: " + missing);
    }

    /**
     * The loss of each step, read as the trainer reads it (after the optimiser); executions[s] and floatsDown[s] get
     * step s's task-graph executions and floats brought back where kernels count them.
     */
    private static float[] train(Kernels kernels, long[] executions, long[] floatsDown) {
        Model model = ModelFiles.load(
                Shared.resolve("models", "stories260K"),
                K,
                ModelFiles.Options.builder()
                        .trainable()
                        .maxTokens(TOKENS)
                        .headRows(1)
                        .labels(0, Pooling.LAST, 0)
                        .kernels(kernels)
                        .build());
        AdamW optimizer = AdamW.withDefaults(model, 1e-3f);
        int[] ids = new int[TOKENS];
        for (int t = 0; t < TOKENS; t++)
            ids[t] = 1 + (t * 7919) % (model.config().vocab() - 1);
        float[] losses = new float[STEPS];
        for (int s = 0; s < STEPS; s++) {
            long before = kernels instanceof TornadoKernels k ? k.executions() : 0;
            long downBefore = kernels instanceof TornadoKernels k ? k.floatsDownloaded() : 0;
            model.zeroGrad();
            model.forward(ids, TOKENS);
            model.lmHead(new int[] {TOKENS - 1}, 1);
            model.computeLoss(new int[] {ids[0]}, null);
            model.backward();
            optimizer.step();
            losses[s] = model.lossValue();
            if (kernels instanceof TornadoKernels k) {
                executions[s] = k.executions() - before;
                floatsDown[s] = k.floatsDownloaded() - downBefore;
            }
        }
        return losses;
    }

    @Test
    void stepsRunAsSegmentGraphsWithTheCpuLosses() {
        float[] cpu = train(new CpuKernels(), null, null);
        long[] first = new long[STEPS], firstDown = new long[STEPS];
        TornadoKernels.releaseKeptPlan(); // this instance starts as the first in a JVM does
        try (TornadoKernels device = new TornadoKernels()) {
            float[] losses = train(device, first, firstDown);
            assertArrayEquals(cpu, losses, 1e-4f, "losses per step");
            assertEquals(
                    1,
                    device.plansBuilt(),
                    "one plan, built at the first flush with its segments' graphs (the arena never grew)");
            for (int s = 2; s < STEPS; s++) {
                assertEquals(
                        first[1], first[s], "every step after the first as many executions: " + Arrays.toString(first));
            }
            // k blocks forward (the first with the embeddings), the final norm, head and loss with the last block's
            // backward, k - 1 blocks backward (the first block's with the embeddings' backward and AdamW's calls),
            // and the loss read.
            assertEquals(2 * K + 1, first[STEPS - 1], "a block's forward and backward are one graph execution each");
            assertTrue(
                    first[1] * 3 <= first[0],
                    "a step after the first (no buffer left to send) ran in a third of the first one's executions or"
                            + " fewer: " + Arrays.toString(first));
            assertEquals(1, firstDown[STEPS - 1], "a steady step brings back its loss and nothing else");
        }
        long[] second = new long[STEPS], secondDown = new long[STEPS];
        try (TornadoKernels device = new TornadoKernels()) {
            float[] losses = train(device, second, secondDown);
            assertArrayEquals(cpu, losses, 1e-4f, "losses per step on the kept plan");
            assertEquals(0, device.plansBuilt(), "the second instance took the first one's plan, graphs compiled");
            assertArrayEquals(
                    Arrays.copyOfRange(first, 1, STEPS),
                    Arrays.copyOfRange(second, 1, STEPS),
                    "after the first step, as many executions as the first instance's steps");
        }
    }
}
