package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.assertGradients;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import slim.nn.Slice;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.optim.AdamW;

/**
 * Reproduces every value of golden.json in each folder of ../shared/golden and ../shared/hub-layouts (opt-tiny as
 * PyTorch's pytorch_model.bin), and of the folder named by -Dslim.golden: logits, losses, all gradients, the first-k
 * model, the classification head and three AdamW steps, from an independent PyTorch implementation. Other backends
 * run the same checks through {@link #everyGoldenFolder(Supplier)}, given a fresh kernel set per model.
 */
public class GoldenTest {

    @TestFactory
    Stream<DynamicNode> everyGoldenFolder() throws IOException {
        return everyGoldenFolder(CpuKernels::new);
    }

    public static Stream<DynamicNode> everyGoldenFolder(Supplier<Kernels> kernels) throws IOException {
        // The four golden decoder folders and opt-tiny-bin (PyTorch .bin shards).
        return Golden.perFolder(
                "slim.golden",
                5,
                (dir, g) -> Stream.of(
                        DynamicTest.dynamicTest("full logits and losses", () -> fullModel(dir, g, kernels)),
                        DynamicTest.dynamicTest("gradients of loss_last", () -> gradients(dir, g, kernels)),
                        DynamicTest.dynamicTest("first-k model", () -> pruned(dir, g, kernels)),
                        DynamicTest.dynamicTest("classification head", () -> classification(dir, g, kernels)),
                        DynamicTest.dynamicTest("three AdamW steps", () -> adamw(dir, g, kernels))),
                "golden",
                "hub-layouts");
    }

    static Model load(Path dir, int keep, int labels, int headRows, Supplier<Kernels> kernels) {
        ModelFiles.Options o = ModelFiles.Options.builder()
                .trainable()
                .headRows(headRows)
                .labels(labels, Pooling.LAST, 0)
                .kernels(kernels.get())
                .build();
        return ModelFiles.load(dir, keep, o);
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    private static void fullModel(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        int[] ids = ints(g.get("input_ids"));
        int T = ids.length;
        int layers = ModelConfig.read(dir).layers();
        Model m = load(dir, layers, 0, T, kernels);
        m.forward(ids, T);
        Slice logits = m.lmLogits(range(0, T), T);
        float[] expected = floats(g.get("logits"));
        assertClose(expected, logits.sub(0, T * m.config().vocab()).toArray(), "logits");
        // Evaluation's path: only the label words' columns, their head rows gathered first.
        int V = m.config().vocab();
        int[] columns = {V - 1, 0, V / 2};
        m.forward(ids, T);
        float[] labelLogits = m.lmLogitColumns(T - 1, columns).toArray();
        float[] expectedColumns = new float[columns.length];
        for (int i = 0; i < columns.length; i++) expectedColumns[i] = expected[(T - 1) * V + columns[i]];
        assertClose(expectedColumns, labelLogits, "label-word logits");
        m.forward(ids, T);
        m.lmLogits(new int[] {T - 1}, 1);
        assertClose(
                g.get("loss_last").doubleValue(),
                m.loss(new int[] {g.get("target").intValue()}, null),
                "loss_last");
        m.forward(ids, T);
        m.lmLogits(range(0, T - 1), T - 1);
        assertClose(
                g.get("loss_causal_mean").doubleValue(),
                m.loss(range(0, T - 1).length == 0 ? null : Arrays.copyOfRange(ids, 1, T), null),
                "loss_causal_mean");
    }

    /** forward, head at the last position, loss against target, backward. */
    private static float lossLast(Model m, int[] ids, int target) {
        m.zeroGrad();
        m.forward(ids, ids.length);
        m.lmLogits(new int[] {ids.length - 1}, 1);
        float loss = m.loss(new int[] {target}, null);
        m.backward();
        return loss;
    }

    private static void gradients(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        int[] ids = ints(g.get("input_ids"));
        Model m = load(dir, ModelConfig.read(dir).layers(), 0, 1, kernels);
        lossLast(m, ids, g.get("target").intValue());
        assertGradients(m, g.get("grads_loss_last"));
        assertEquals(
                g.get("grads_loss_last").size(),
                m.layout().bindings().size(),
                "every tensor of the file has a gradient");
    }

    private static void pruned(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        JsonNode p = g.get("pruned");
        int[] ids = ints(g.get("input_ids"));
        Model m = load(dir, p.get("k").intValue(), 0, 1, kernels);
        float loss = lossLast(m, ids, g.get("target").intValue());
        m.forward(ids, ids.length);
        assertClose(
                floats(p.get("logits_last")),
                m.lmLogits(new int[] {ids.length - 1}, 1)
                        .sub(0, m.config().vocab())
                        .toArray(),
                "pruned logits_last");
        assertClose(p.get("loss_last").doubleValue(), loss, "pruned loss_last");
        assertGradients(m, p.get("grads_loss_last"));
        assertEquals(p.get("grads_loss_last").size(), m.layout().bindings().size(), "only the kept tensors remain");
    }

    private static void classification(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        JsonNode c = g.get("classification");
        int[] ids = ints(g.get("input_ids"));
        int labels = c.get("num_labels").intValue();
        Model m = load(dir, c.get("k").intValue(), labels, 1, kernels);
        Golden.assertClassification(m, ids, c, "grad_first_param");
    }

    private static void adamw(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        JsonNode o = g.get("adamw");
        int[] ids = ints(g.get("input_ids"));
        Model m = load(dir, o.get("k").intValue(), 0, 1, kernels);
        AdamW opt = new AdamW(
                m,
                new AdamWSettings(
                        o.get("lr").floatValue(),
                        o.get("beta1").floatValue(),
                        o.get("beta2").floatValue(),
                        o.get("eps").floatValue(),
                        o.get("weight_decay").floatValue()));
        float[] losses = floats(o.get("losses"));
        for (int step = 0; step < o.get("steps").intValue(); step++) {
            float loss = lossLast(m, ids, g.get("target").intValue());
            assertClose(losses[step], loss, "loss before step " + (step + 1));
            opt.step();
        }
        m.kernels().read(m.params().all);
        for (Map.Entry<String, JsonNode> e : o.get("params_after").properties()) {
            assertClose(
                    floats(e.getValue()),
                    m.layout().export(m.params().block, m.layout().binding(e.getKey())),
                    "after AdamW: " + e.getKey());
        }
    }
}
