package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import slim.nn.Slice;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * Reproduces golden.json in each folder of ../shared/golden-encoders (and of the folder named by
 * -Dslim.golden.encoders): the BERT encoder's final hidden states, those of its first-k model, and
 * a classification head on [CLS] and on the mean, with the gradient of every remaining tensor.
 * Other backends run the same checks through {@link #everyGoldenEncoder(Supplier)}.
 */
public class EncoderGoldenTest {

    @TestFactory
    Stream<DynamicNode> everyGoldenEncoder() throws IOException {
        return everyGoldenEncoder(CpuKernels::new);
    }

    /** The checks with a fresh kernel set per model. */
    public static Stream<DynamicNode> everyGoldenEncoder(Supplier<Kernels> kernels) throws IOException {
        return Golden.perFolder(
                "slim.golden.encoders",
                1,
                (dir, g) -> Stream.of(
                        DynamicTest.dynamicTest("hidden states", () -> hidden(dir, g, kernels)),
                        DynamicTest.dynamicTest("first-k hidden states", () -> pruned(dir, g, kernels)),
                        DynamicTest.dynamicTest(
                                "classification on [CLS]",
                                () -> classification(dir, g, g.get("classification_cls"), Pooling.FIRST, kernels)),
                        DynamicTest.dynamicTest(
                                "classification on the mean",
                                () -> classification(dir, g, g.get("classification_mean"), Pooling.MEAN, kernels))),
                "golden-encoders");
    }

    /** The model sees one token type (0); a golden input with others would test something else. */
    private static int[] ids(JsonNode g) {
        assertTrue(Arrays.stream(ints(g.get("token_type_ids"))).allMatch(t -> t == 0), "token_type_ids are all 0");
        return ints(g.get("input_ids"));
    }

    /** The final hidden states [T, C] of the last forward pass, as the host sees them. */
    static float[] hidden(Model m, int T) {
        Slice h = m.hidden().sub(0, T * m.config().embedDim());
        m.kernels().read(h);
        return h.toArray();
    }

    private static float[] hiddenStates(Path dir, int keep, int[] ids, Supplier<Kernels> kernels) {
        Model m = ModelFiles.load(
                dir,
                keep,
                ModelFiles.Options.builder()
                        .labels(0, Pooling.FIRST, 0)
                        .maxTokens(ids.length)
                        .kernels(kernels.get())
                        .build());
        m.forward(ids, ids.length);
        return hidden(m, ids.length);
    }

    private static void hidden(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        assertClose(
                floats(g.get("hidden")), hiddenStates(dir, ModelConfig.read(dir).layers(), ids(g), kernels), "hidden");
    }

    private static void pruned(Path dir, JsonNode g, Supplier<Kernels> kernels) {
        JsonNode p = g.get("pruned");
        assertClose(
                floats(p.get("hidden")), hiddenStates(dir, p.get("k").intValue(), ids(g), kernels), "pruned hidden");
    }

    private static void classification(Path dir, JsonNode g, JsonNode c, Pooling pooling, Supplier<Kernels> kernels) {
        assertEquals(pooling, Pooling.parse(c.get("pooling").asText()), "pooling of the golden head");
        int[] ids = ids(g);
        Model m = ModelFiles.load(
                dir,
                c.get("k").intValue(),
                ModelFiles.Options.builder()
                        .trainable()
                        .labels(c.get("num_labels").intValue(), pooling, 0)
                        .maxTokens(ids.length)
                        .kernels(kernels.get())
                        .build());
        Golden.assertClassification(m, ids, c, "grads");
        Set<String> expected = new HashSet<>();
        c.get("grads").fieldNames().forEachRemaining(expected::add);
        expected.add(ParamLayout.SCORE_TENSOR);
        Set<String> held = new HashSet<>();
        m.layout().bindings().forEach(b -> held.add(b.tensor()));
        assertEquals(expected, held, "the first-k model holds exactly the golden tensors and the head");
    }
}
