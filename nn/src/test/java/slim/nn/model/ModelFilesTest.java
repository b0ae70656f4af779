package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;

/** Loading the first k layers, writing a pruned checkpoint, and refusing bad model folders. */
class ModelFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static float[] lastLogits(Model m, int[] ids) {
        m.forward(ids, ids.length);
        return m.lmLogits(new int[] {ids.length - 1}, 1).sub(0, m.config().vocab()).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"golden/gpt2-tiny", "golden/opt-tiny", "golden/opt-postln-proj-tiny", "golden/llama-tiny",
            "models/stories260K"})
    void prunedCheckpointGivesTheOutputsOfTheFirstKLayers(String folder) {
        Path dir = Shared.resolve(folder);
        int[] ids = {1, 5, 9, 2, 7, 3};
        Model kept = ModelFiles.load(dir, 1, ModelFiles.Options.builder().maxTokens(8).build());
        Path out = tmp.resolve("pruned");
        ModelFiles.save(kept, dir, out);
        Model reloaded = ModelFiles.load(out, 1, ModelFiles.Options.builder().maxTokens(8).build());
        assertEquals(1, reloaded.config().layers());
        assertArrayEquals(kept.params().block, reloaded.params().block, 0f, "the same weights, bit for bit");
        // Outputs agree to rounding: HotSpot may round a vector reduction differently once it compiles it.
        float[] expected = lastLogits(kept, ids), actual = lastLogits(reloaded, ids);
        float scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5f * scale);
        try (Checkpoint pruned = Checkpoint.open(out); Checkpoint source = Checkpoint.open(dir)) {
            assertTrue(source.names().containsAll(pruned.names()), "tensor names are the source's");
            assertTrue(pruned.names().size() < source.names().size(), "later layers are gone");
        }
    }

    @Test
    void onlyTheKeptLayersAreRead() {
        Path dir = Shared.resolve("models", "stories260K");
        long[] read = new long[6];
        for (int k = 1; k <= 5; k++) read[k] = bytesRead(dir, KeptLayers.first(k));
        long perLayer = read[2] - read[1];
        assertTrue(perLayer > 0);
        for (int k = 2; k <= 5; k++) assertEquals(perLayer, read[k] - read[k - 1], "each kept layer adds the same bytes");
        assertEquals(read[2], bytesRead(dir, KeptLayers.parse("1,4")), "any two layers read as much as the first two");
    }

    private static long bytesRead(Path dir, KeptLayers kept) {
        ModelConfig c = ModelConfig.read(dir);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            ParamLayout layout = new ParamLayout(c, kept, 0, "model.");
            float[] block = new float[layout.size()];
            for (ParamLayout.Binding b : layout.bindings()) {
                ckpt.read(b.tensor(), b.shape(), block, b.offset(), b.transposed());
            }
            return ckpt.bytesRead();
        }
    }

    @Test
    void keptLayersOutsideTheModelAreRefused() {
        Path dir = Shared.resolve("golden", "gpt2-tiny");
        for (int k : new int[] {0, 4, -1}) {
            SlimException e = assertThrows(SlimException.class, () -> ModelFiles.load(dir, k, ModelFiles.Options.inference()));
            assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("cannot keep " + k), e.getMessage());
        }
    }

    /** A copy of a golden folder whose config.json is edited by the test. */
    private Path copyWithConfig(String folder, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        Path src = Shared.resolve("golden", folder), dst = tmp.resolve(folder);
        Files.createDirectories(dst);
        Files.copy(src.resolve("model.safetensors"), dst.resolve("model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dst.resolve("config.json").toFile(), config);
        return dst;
    }

    private static void assertRefused(Path dir, String... fragments) {
        SlimException e = assertThrows(SlimException.class, () -> ModelFiles.load(dir, 1, ModelFiles.Options.inference()));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
    }

    @Test
    void aConfigThatLiesAboutAShapeNamesTheTensor() throws IOException {
        Path dir = copyWithConfig("gpt2-tiny", c -> c.put("n_embd", 48));
        assertRefused(dir, "model.safetensors", "wte.weight", "[101, 32]");
    }

    @Test
    void anUnknownModelTypeIsRefused() throws IOException {
        Path dir = copyWithConfig("opt-tiny", c -> c.put("model_type", "mamba"));
        assertRefused(dir, "config.json", "unsupported model_type 'mamba'");
    }

    @Test
    void aMissingKeyIsNamed() throws IOException {
        Path dir = copyWithConfig("llama-tiny", c -> c.remove("hidden_size"));
        assertRefused(dir, "config.json", "missing 'hidden_size'");
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        // More layers than the file has: layer 3 is missing.
        Path dir = copyWithConfig("opt-tiny", c -> c.put("num_hidden_layers", 4));
        SlimException e = assertThrows(SlimException.class, () -> ModelFiles.load(dir, 4, ModelFiles.Options.inference()));
        assertTrue(e.getMessage().contains("layers.3.") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void aTruncatedCheckpointIsRefused() throws IOException {
        Path dir = copyWithConfig("gpt2-tiny", c -> {});
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertRefused(dir, "model.safetensors");
    }

    @Test
    void savingNeverOverwritesAFolderThatHasFiles() throws IOException {
        Path dir = Shared.resolve("golden", "gpt2-tiny");
        Path out = tmp.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "keep me");
        Model m = ModelFiles.load(dir, 1, ModelFiles.Options.inference());
        assertThrows(SlimException.class, () -> ModelFiles.save(m, dir, out));
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
        assertEquals(List.of(out.resolve("notes.txt")), Files.list(out).toList());
    }
}
