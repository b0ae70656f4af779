package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.nn.model.Golden.assertClose;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import slim.nn.Shared;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.optim.AdamW;

/**
 * AdamW that adds the LM head's weight gradient in its own pass (Kernels.adamwOuterProduct, the gradient never
 * written out) moves the weights as AdamW over the gradient that backward wrote out (the full computation), over
 * three steps: on every golden decoder (tied and untied heads, the projected OPT shape) and stories260K, with the
 * word embeddings trained and frozen. Every gradient is zero after each step, and a gradient read after backward is
 * written out. Equal up to fp32 rounding: AdamW's eps is 1e-3 here, since with 1e-8 a rounding difference in a
 * gradient that cancels to about zero changes that weight's update by up to lr (the kernels' reductions are not yet
 * of a fixed order, so two runs of the same path differ by such roundings too).
 */
class HeadGradientFoldTest {
    private static final int T = 10;

    @TestFactory
    Stream<DynamicTest> everyDecoder() throws IOException {
        List<Path> models = new ArrayList<>(Golden.folders("slim.golden", "golden"));
        models.add(Shared.resolve("models/stories260K"));
        assertTrue(models.size() >= 5, "expected the golden decoders and stories260K, found " + models);
        return models.stream()
                .flatMap(dir -> Stream.of(false, true)
                        .map(freeze -> DynamicTest.dynamicTest(
                                dir.getFileName() + (freeze ? ", embeddings frozen" : ""),
                                () -> sameSteps(dir, freeze))));
    }

    private static void sameSteps(Path dir, boolean freeze) {
        AtomicInteger folded = new AtomicInteger();
        Model written = load(dir, new CpuKernels()),
                fused = load(dir, counting(folded)),
                read = load(dir, new CpuKernels());
        written.foldHeadGradient(false);
        boolean tied = written.params().lmHead == written.params().wte;
        AdamW writtenOpt = optimizer(written, freeze), fusedOpt = optimizer(fused, freeze);
        Random random = new Random(3);
        for (int step = 1; step <= 3; step++) {
            int[] ids = new int[T];
            for (int t = 0; t < T; t++) ids[t] = random.nextInt(written.config().vocab());
            int target = random.nextInt(written.config().vocab());
            backward(written, ids, target);
            backward(read, ids, target);
            assertClose(written.grads().block, read.grads().block, "gradients written out after backward");
            writtenOpt.step();
            backward(fused, ids, target);
            fusedOpt.step();
            assertClose(written.params().block, fused.params().block, "weights after step " + step);
            assertEquals(0, nonZero(fused.grads().block), "gradients left after step " + step);
            System.arraycopy(written.params().block, 0, read.params().block, 0, written.params().block.length);
        }
        assertEquals(freeze && tied ? 0 : 3, folded.get(), "steps that folded the head's gradient into AdamW");
    }

    private static AdamW optimizer(Model m, boolean freeze) {
        AdamW opt = new AdamW(m, new AdamWSettings(1e-2f, 0.9f, 0.999f, 1e-3f, 0.01f));
        if (freeze) opt.freezeLeading(m.params().wte.length());
        return opt;
    }

    private static Model load(Path dir, Kernels kernels) {
        ModelFiles.Options o = ModelFiles.Options.builder()
                .trainable()
                .maxTokens(T)
                .headRows(1)
                .kernels(kernels)
                .build();
        return ModelFiles.load(dir, 1, o);
    }

    private static void backward(Model m, int[] ids, int target) {
        m.zeroGrad();
        m.forward(ids, Rows.all(T).lastRow());
        m.lmLogits(new int[] {T - 1}, 1);
        m.loss(new int[] {target}, null);
        m.backward();
    }

    /** CPU kernels that count the calls of adamwOuterProduct. */
    private static Kernels counting(AtomicInteger calls) {
        Kernels cpu = new CpuKernels();
        return (Kernels) Proxy.newProxyInstance(
                Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (proxy, method, args) -> {
                    if (method.getName().equals("adamwOuterProduct")) calls.incrementAndGet();
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static int nonZero(float[] x) {
        int n = 0;
        for (float f : x) if (f != 0f) n++;
        return n;
    }
}
