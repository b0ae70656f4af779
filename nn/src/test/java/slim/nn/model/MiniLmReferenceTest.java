package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import slim.nn.Shared;
import slim.nn.Slice;

/**
 * The real pretrained all-MiniLM-L6-v2 (../shared/models) reproduces its reference.json: the final
 * hidden states with all 6, the first 1 and the first 2 layers, and the sentence embedding
 * (mean over positions, then L2 norm) of each sentence.
 */
class MiniLmReferenceTest {

    private static final Path MODEL = Shared.resolve("models", "all-MiniLM-L6-v2");

    @TestFactory
    Stream<DynamicNode> referenceSentences() {
        JsonNode sentences = Golden.read(MODEL.resolve("reference.json")).get("sentences");
        assertEquals(3, sentences.size(), "reference sentences");
        int maxT = 0;
        for (JsonNode s : sentences) maxT = Math.max(maxT, s.get("input_ids").size());
        int longest = maxT;
        List<DynamicNode> tests = new ArrayList<>();
        // One model per depth, reused for every sentence (loading reads only the kept layers). The
        // sentences run 4, 12, then 10 tokens: a shorter sequence after a longer one must not see the
        // longer one's rows in the reused buffers, which is what a padding mask guarantees in a batch.
        tests.add(DynamicTest.dynamicTest("all 6 layers: hidden states and sentence embeddings", () -> {
            Model m = load(6, longest);
            for (JsonNode s : sentences) {
                float[] hidden = hidden(m, s);
                assertClose(
                        floats(s.get("hidden")),
                        hidden,
                        "hidden of '" + s.get("text").asText() + "'");
                assertClose(
                        floats(s.get("sentence_embedding")),
                        sentenceEmbedding(m, hidden),
                        "sentence embedding of '" + s.get("text").asText() + "'");
            }
        }));
        for (int k : new int[] {1, 2}) {
            tests.add(DynamicTest.dynamicTest("first " + k + " layer(s): hidden states", () -> {
                Model m = load(k, longest);
                for (JsonNode s : sentences) {
                    assertClose(
                            floats(s.get("hidden_k" + k)),
                            hidden(m, s),
                            "hidden_k" + k + " of '" + s.get("text").asText() + "'");
                }
            }));
        }
        return tests.stream();
    }

    private static Model load(int keep, int maxTokens) {
        return ModelFiles.load(
                MODEL,
                keep,
                ModelFiles.Options.builder()
                        .labels(0, Pooling.MEAN, 0)
                        .maxTokens(maxTokens)
                        .build());
    }

    /** Final hidden states [T, C] of one sentence (token types all 0, no padding). */
    private static float[] hidden(Model m, JsonNode sentence) {
        int[] ids = ints(sentence.get("input_ids"));
        m.forward(ids, ids.length);
        return EncoderGoldenTest.hidden(m, ids.length);
    }

    /** sentence-transformers' embedding: the engine's mean over positions, then L2 normalisation. */
    private static float[] sentenceEmbedding(Model m, float[] hidden) {
        int C = m.config().embedDim(), T = hidden.length / C;
        Slice mean = Slice.allocate(C);
        m.kernels().meanRowsForward(mean, Slice.of(hidden), T, C);
        double norm = 0;
        for (float v : mean.data()) norm += (double) v * v;
        float[] out = mean.toArray();
        for (int i = 0; i < C; i++) out[i] = (float) (out[i] / Math.sqrt(norm));
        return out;
    }
}
