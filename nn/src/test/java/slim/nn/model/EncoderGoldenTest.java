package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.assertGradients;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Reproduces golden.json in each folder of ../shared/golden-encoders (and of the folder named by
 * -Dslim.golden.encoders): the BERT encoder's final hidden states, those of its first-k model, and
 * a classification head on [CLS] and on the mean, with the gradient of every remaining tensor.
 */
class EncoderGoldenTest {

    @TestFactory
    Stream<DynamicNode> everyGoldenEncoder() throws IOException {
        List<Path> folders = Golden.folders("slim.golden.encoders", "golden-encoders");
        assertFalse(folders.isEmpty(), "expected at least bert-tiny under golden-encoders");
        return folders.stream().map(dir -> {
            JsonNode g = Golden.read(dir.resolve("golden.json"));
            return DynamicContainer.dynamicContainer(dir.getFileName().toString(), Stream.of(
                    DynamicTest.dynamicTest("hidden states", () -> hidden(dir, g)),
                    DynamicTest.dynamicTest("first-k hidden states", () -> pruned(dir, g)),
                    DynamicTest.dynamicTest("classification on [CLS]", () ->
                            classification(dir, g, g.get("classification_cls"), Pooling.FIRST)),
                    DynamicTest.dynamicTest("classification on the mean", () ->
                            classification(dir, g, g.get("classification_mean"), Pooling.MEAN))));
        });
    }

    /** The model sees one token type (0); a golden input with others would test something else. */
    private static int[] ids(JsonNode g) {
        assertTrue(Arrays.stream(ints(g.get("token_type_ids"))).allMatch(t -> t == 0), "token_type_ids are all 0");
        return ints(g.get("input_ids"));
    }

    static float[] hiddenStates(Path dir, int keep, int[] ids) {
        Model m = ModelFiles.load(dir, keep, ModelFiles.Options.inference().withLabels(0, Pooling.FIRST, 0)
                .withMaxTokens(ids.length));
        m.forward(ids, ids.length);
        return m.hidden().sub(0, ids.length * m.config().embedDim()).toArray();
    }

    private static void hidden(Path dir, JsonNode g) {
        assertClose(floats(g.get("hidden")), hiddenStates(dir, ModelConfig.read(dir).layers(), ids(g)), "hidden");
    }

    private static void pruned(Path dir, JsonNode g) {
        JsonNode p = g.get("pruned");
        assertClose(floats(p.get("hidden")), hiddenStates(dir, p.get("k").intValue(), ids(g)), "pruned hidden");
    }

    private static void classification(Path dir, JsonNode g, JsonNode c, Pooling pooling) {
        assertEquals(pooling, Pooling.parse(c.get("pooling").asText()), "pooling of the golden head");
        int[] ids = ids(g);
        Model m = ModelFiles.load(dir, c.get("k").intValue(), ModelFiles.Options.inference().training()
                .withLabels(c.get("num_labels").intValue(), pooling, 0).withMaxTokens(ids.length));
        float[] score = floats(c.get("score.weight"));
        assertEquals(m.params().score.length(), score.length, "score.weight size");
        System.arraycopy(score, 0, m.params().score.data(), m.params().score.offset(), score.length);
        m.zeroGrad();
        m.forward(ids, ids.length);
        assertClose(floats(c.get("logits")), m.classLogits().toArray(), "class logits");
        assertClose(c.get("loss").doubleValue(), m.loss(new int[] {c.get("label").intValue()}, null), "class loss");
        m.backward();
        assertClose(floats(c.get("grad_score.weight")), m.grads().score.toArray(), "grad score.weight");
        assertGradients(m, c.get("grads"));
        Set<String> expected = new HashSet<>();
        c.get("grads").fieldNames().forEachRemaining(expected::add);
        expected.add(ParamLayout.SCORE_TENSOR);
        Set<String> held = new HashSet<>();
        m.layout().bindings().forEach(b -> held.add(b.tensor()));
        assertEquals(expected, held, "the first-k model holds exactly the golden tensors and the head");
    }
}
