package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;
import slim.nn.io.SafeTensorsWriter;

/**
 * A model loaded with any set of kept layers is the full model with the other layers skipped, in
 * every family: checked against a checkpoint the test cuts by hand (tensors renamed by their
 * layer index, config edited), against the full model whose skipped blocks were made the
 * identity (pre-norm families), and through `prune` and reload.
 */
class LayerSubsetTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A layer's index inside a tensor name of any family: h.N., layers.N., encoder.layer.N. */
    private static final Pattern LAYER = Pattern.compile("^(.*\\b(?:h|layers|layer))\\.(\\d+)\\.(.*)$");
    /** The last linear map of each branch of a pre-norm block: zeroed, the block adds nothing to its input. */
    private static final Pattern BRANCH_OUTPUT = Pattern.compile(
            "\\.(attn\\.c_proj|mlp\\.c_proj|self_attn\\.out_proj|fc2|self_attn\\.o_proj|mlp\\.down_proj)\\.");

    private static final int[] IDS = {1, 5, 9, 2, 7, 3};

    @TempDir
    Path tmp;

    private static Model load(Path dir, KeptLayers kept) {
        return ModelFiles.load(
                dir,
                kept,
                ModelFiles.Options.builder()
                        .labels(0, Pooling.LAST, 0)
                        .maxTokens(8)
                        .build());
    }

    private static float[] hidden(Model m) {
        m.forward(IDS, IDS.length);
        return m.hidden().sub(0, IDS.length * m.config().embedDim()).toArray();
    }

    /** Same weights, same code: the same numbers up to HotSpot compiling a reduction differently. */
    private static void assertSameOutputs(float[] expected, float[] actual, String what) {
        float scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5f * scale, what + " [" + i + "]");
        }
    }

    /** Copies dir keeping only the given layers' tensors, renumbered 0..n-1, with the config's layer count n. */
    private Path cutByHand(Path dir, KeptLayers kept, String name) throws IOException {
        Path out = tmp.resolve(name);
        Files.createDirectories(out);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            for (String tensor : ckpt.names()) {
                Matcher m = LAYER.matcher(tensor);
                String renamed = tensor;
                if (m.matches()) {
                    int at = kept.indices().indexOf(Integer.parseInt(m.group(2)));
                    if (at < 0) continue;
                    renamed = m.group(1) + "." + at + "." + m.group(3);
                }
                long[] shape = ckpt.info(tensor).shape();
                float[] values = new float[(int) ckpt.info(tensor).elements()];
                ckpt.read(tensor, shape, values, 0, false);
                writer.add(renamed, shape, values, 0, false);
            }
        }
        writer.write(out.resolve(Checkpoint.SINGLE_FILE));
        ObjectNode config =
                (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        config.put(layerCountKey(config), kept.count());
        JSON.writeValue(out.resolve("config.json").toFile(), config);
        return out;
    }

    /** Where transformers reads the layer count: GPT-2's n_layer, every other family's num_hidden_layers. */
    private static String layerCountKey(ObjectNode config) {
        return config.has("n_layer") ? "n_layer" : "num_hidden_layers";
    }

    /** A copy of dir whose layers outside kept add nothing to the residual stream (pre-norm blocks only). */
    private Path skipByZeroing(Path dir, KeptLayers kept) throws IOException {
        Path out = tmp.resolve("zeroed");
        Files.createDirectories(out);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            for (String tensor : ckpt.names()) {
                long[] shape = ckpt.info(tensor).shape();
                float[] values = new float[(int) ckpt.info(tensor).elements()];
                ckpt.read(tensor, shape, values, 0, false);
                Matcher m = LAYER.matcher(tensor);
                if (m.matches()
                        && !kept.indices().contains(Integer.parseInt(m.group(2)))
                        && BRANCH_OUTPUT.matcher("." + m.group(3)).find()) {
                    Arrays.fill(values, 0f);
                }
                writer.add(tensor, shape, values, 0, false);
            }
        }
        writer.write(out.resolve(Checkpoint.SINGLE_FILE));
        Files.copy(dir.resolve("config.json"), out.resolve("config.json"));
        return out;
    }

    @ParameterizedTest
    @CsvSource({
        "golden/gpt2-tiny, '0,2'",
        "golden/gpt2-tiny, '1,2'",
        "golden/opt-tiny, '0,2'",
        "golden/opt-postln-proj-tiny, '1'",
        "golden/llama-tiny, '1'",
        "golden-encoders/bert-tiny, '0,2'",
        "golden-encoders/bert-tiny, '2'",
        "models/stories260K, '0,3,4'"
    })
    void aSubsetIsTheModelCutByHand(String folder, String spec) throws IOException {
        Path dir = Shared.resolve(folder);
        KeptLayers kept = KeptLayers.parse(spec);
        Model subset = load(dir, kept);
        assertEquals(kept, subset.layout().kept());
        Model byHand = load(cutByHand(dir, kept, "by-hand"), KeptLayers.first(kept.count()));
        assertArrayEquals(byHand.params().block, subset.params().block, 0f, "the same weights in the same places");
        assertSameOutputs(hidden(byHand), hidden(subset), "hidden states");
    }

    @ParameterizedTest
    @CsvSource({
        "golden/gpt2-tiny, '0,2'",
        "golden/gpt2-tiny, '1'",
        "golden/opt-tiny, '1,2'",
        "golden/llama-tiny, '0,2'",
        "models/stories260K, '1,4'"
    })
    void aSubsetIsTheFullModelWithTheOtherBlocksMadeTheIdentity(String folder, String spec) throws IOException {
        Path dir = Shared.resolve(folder);
        KeptLayers kept = KeptLayers.parse(spec);
        Path zeroed = skipByZeroing(dir, kept);
        Model full = load(zeroed, KeptLayers.first(ModelConfig.read(dir).layers()));
        assertSameOutputs(hidden(full), hidden(load(dir, kept)), "hidden states");
    }

    @ParameterizedTest
    @CsvSource({
        "golden/gpt2-tiny, '0,2'",
        "golden/opt-tiny, '1,2'",
        "golden/opt-postln-proj-tiny, '1'",
        "golden/llama-tiny, '2'",
        "golden-encoders/bert-tiny, '0,2'"
    })
    void prunedSubsetIsTheHandCutCheckpointAndReloadsAsTheSubset(String folder, String spec) throws IOException {
        Path dir = Shared.resolve(folder);
        KeptLayers kept = KeptLayers.parse(spec);
        Model subset = load(dir, kept);
        Path out = tmp.resolve("pruned");
        ModelFiles.save(subset, dir, out);
        ModelConfig pruned = ModelConfig.read(out);
        assertEquals(kept.count(), pruned.layers());
        assertEquals(
                kept.count(),
                pruned.json().get(layerCountKey(pruned.json())).intValue(),
                "the count transformers reads");
        Path byHand = cutByHand(dir, kept, "by-hand");
        try (Checkpoint written = Checkpoint.open(out);
                Checkpoint expected = Checkpoint.open(byHand)) {
            Set<String> names = new TreeSet<>(expected.names());
            assertEquals(names, new TreeSet<>(written.names()), "the hand-cut checkpoint's tensor names");
            for (String name : names) {
                long[] shape = expected.info(name).shape();
                float[] a = new float[(int) expected.info(name).elements()], b = new float[a.length];
                expected.read(name, shape, a, 0, false);
                written.read(name, shape, b, 0, false);
                assertArrayEquals(a, b, 0f, name);
            }
        }
        Model reloaded = load(out, KeptLayers.first(kept.count()));
        assertArrayEquals(subset.params().block, reloaded.params().block, 0f);
        assertSameOutputs(hidden(subset), hidden(reloaded), "hidden states");
    }
}
