package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;
import slim.nn.io.FloatType;
import slim.nn.io.SafeTensorsWriter;
import slim.nn.io.TensorInfo;

/** Loading the first k layers, writing a pruned checkpoint, and refusing bad model folders. */
class ModelFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static float[] lastLogits(Model m, int[] ids) {
        m.forward(ids, ids.length);
        return m.lmLogits(new int[] {ids.length - 1}, 1)
                .sub(0, m.config().vocab())
                .toArray();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "golden/gpt2-tiny",
                "golden/opt-tiny",
                "golden/opt-postln-proj-tiny",
                "golden/llama-tiny",
                "models/stories260K"
            })
    void prunedCheckpointGivesTheOutputsOfTheFirstKLayers(String folder) {
        Path dir = Shared.resolve(folder);
        int[] ids = {1, 5, 9, 2, 7, 3};
        Model kept = ModelFiles.load(
                dir, 1, ModelFiles.Options.builder().maxTokens(8).build());
        Path out = tmp.resolve("pruned");
        ModelFiles.prune(dir, KeptLayers.first(1), out);
        Model reloaded = ModelFiles.load(
                out, 1, ModelFiles.Options.builder().maxTokens(8).build());
        assertEquals(1, reloaded.config().layers());
        assertArrayEquals(kept.params().block, reloaded.params().block, 0f, "the same weights, bit for bit");
        // Outputs agree to rounding: HotSpot may round a vector reduction differently once it compiles it.
        float[] expected = lastLogits(kept, ids), actual = lastLogits(reloaded, ids);
        float scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5f * scale);
        try (Checkpoint pruned = Checkpoint.open(out);
                Checkpoint source = Checkpoint.open(dir)) {
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
        for (int k = 2; k <= 5; k++)
            assertEquals(perLayer, read[k] - read[k - 1], "each kept layer adds the same bytes");
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
            SlimException e =
                    assertThrows(SlimException.class, () -> ModelFiles.load(dir, k, ModelFiles.Options.inference()));
            assertTrue(
                    e.getMessage().contains("config.json") && e.getMessage().contains("cannot keep " + k),
                    e.getMessage());
        }
    }

    /** A copy of a golden folder whose config.json is edited by the test. */
    private Path copyWithConfig(String folder, Consumer<ObjectNode> edit) throws IOException {
        Path src = Shared.resolve("golden", folder), dst = tmp.resolve(folder);
        Files.createDirectories(dst);
        Files.copy(src.resolve("model.safetensors"), dst.resolve("model.safetensors"));
        ObjectNode config =
                (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dst.resolve("config.json").toFile(), config);
        return dst;
    }

    private static void assertRefused(Path dir, String... fragments) {
        SlimException e =
                assertThrows(SlimException.class, () -> ModelFiles.load(dir, 1, ModelFiles.Options.inference()));
        for (String f : fragments)
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
    }

    @Test
    void aConfigThatLiesAboutAShapeNamesTheTensor() throws IOException {
        Path dir = copyWithConfig("gpt2-tiny", c -> c.put("n_embd", 48));
        assertRefused(dir, "model.safetensors", "wte.weight", "[101, 32]");
    }

    /** Values no model can have are refused with the key named, before any tensor is looked at. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "gpt2-tiny  | layer_norm_epsilon | -1e-5      | 'layer_norm_epsilon' must be greater than 0",
                "gpt2-tiny  | layer_norm_epsilon | 0          | 'layer_norm_epsilon' must be greater than 0",
                "gpt2-tiny  | resid_pdrop        | 2.0        | 'resid_pdrop' must be a probability in [0, 1)",
                "gpt2-tiny  | attn_pdrop         | 1          | 'attn_pdrop' must be a probability in [0, 1)",
                "gpt2-tiny  | embd_pdrop         | -0.1       | 'embd_pdrop' must be a probability in [0, 1)",
                "gpt2-tiny  | n_head             | 5          | 'n_embd' 32 is not divisible by 'n_head' 5",
                "gpt2-tiny  | n_head             | 0          | 'n_head' must be positive",
                "gpt2-tiny  | n_positions        | -64        | 'n_positions' must be positive",
                "gpt2-tiny  | n_positions        | 1000000000 | 'n_positions' is 1000000000, beyond any context",
                "gpt2-tiny  | n_positions        | 1e9        | 'n_positions' must be an integer",
                "gpt2-tiny  | vocab_size         | 2000000000 | 'vocab_size' is 2000000000, beyond any model",
                "opt-tiny   | dropout            | 1.5        | 'dropout' must be a probability in [0, 1)",
                "opt-tiny   | ffn_dim            | 0          | 'ffn_dim' must be positive",
                "llama-tiny | num_key_value_heads| 3          | is not a multiple of num_key_value_heads 3",
                "llama-tiny | rms_norm_eps       | 0          | 'rms_norm_eps' must be greater than 0",
                "llama-tiny | rope_theta         | -10000     | 'rope_theta' must be greater than 0",
            })
    void aConfigValueOutOfRangeIsNamed(String folder, String key, String value, String message) throws IOException {
        JsonNode parsed = JSON.readTree(value.strip());
        Path dir = copyWithConfig(folder.strip(), c -> c.set(key.strip(), parsed));
        assertRefused(dir, "config.json", message);
    }

    @Test
    void aConfigWithATensorNameTwiceIsRefused() throws IOException {
        Path dir = copyWithConfig("gpt2-tiny", c -> {});
        String text = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), text.replaceFirst("\\{", "{\"n_embd\": 64, "));
        assertRefused(dir, "config.json", "Duplicate field 'n_embd'");
    }

    /** The lying configs: a sentence naming a tensor, not an OutOfMemoryError from allocating for the lie. */
    @ParameterizedTest
    @ValueSource(strings = {"n_embd=9000", "n_positions=1000000", "vocab_size=16000000"})
    void aConfigTooLargeForItsCheckpointIsRefusedBeforeAllocating(String edit) throws IOException {
        String[] kv = edit.split("=");
        Path dir = copyWithConfig("gpt2-tiny", c -> c.put(kv[0], Integer.parseInt(kv[1])));
        assertRefused(dir, "model.safetensors", "stored shape", "but expected");
    }

    @Test
    void aModelLargerThanTheHeapIsRefusedWithItsSize() {
        Path dir = Shared.resolve("golden", "gpt2-tiny");
        ParamLayout layout = new ParamLayout(ModelConfig.read(dir), KeptLayers.first(3), 0, "");
        MemoryCheck fits = MemoryCheck.of(layout, 64, 1, true);
        fits.requireFits(dir);
        assertTrue(
                fits.parameterBytes() == 16L * layout.size() && fits.activationBytes() > 4L * 3 * 4 * 64 * 64,
                fits::toString);
        MemoryCheck huge = new MemoryCheck(Runtime.getRuntime().maxMemory(), 1L << 30, 1);
        SlimException e = assertThrows(SlimException.class, () -> huge.requireFits(dir));
        assertTrue(
                e.getMessage().contains("gpt2-tiny: the model needs about")
                        && e.getMessage().contains("-Xmx"),
                e.getMessage());
        MemoryCheck wide = MemoryCheck.of(layout, 30_000, 1, false);
        e = assertThrows(SlimException.class, () -> wide.requireFits(dir));
        assertTrue(e.getMessage().contains("more than Java arrays hold"), e.getMessage());
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
        SlimException e =
                assertThrows(SlimException.class, () -> ModelFiles.load(dir, 4, ModelFiles.Options.inference()));
        assertTrue(
                e.getMessage().contains("layers.3.") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void aTruncatedCheckpointIsRefused() throws IOException {
        Path dir = copyWithConfig("gpt2-tiny", c -> {});
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertRefused(dir, "model.safetensors");
    }

    @Test
    void savingNeverOverwritesAFolderThatHasFiles() throws IOException {
        Path dir = Shared.resolve("golden", "gpt2-tiny");
        Path out = tmp.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "keep me");
        assertThrows(SlimException.class, () -> ModelFiles.prune(dir, KeptLayers.first(1), out));
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
        assertEquals(List.of(out.resolve("notes.txt")), Files.list(out).toList());
    }

    @Test
    void pruneKeepsEachTensorsDtypeAndTheTensorsSlimDoesNotComputeWith() throws IOException {
        // bert-tiny stored as F16, with a BF16 pooler as BERT checkpoints carry one: prune must keep both as they are.
        Path source = Shared.resolve("golden-encoders", "bert-tiny");
        Path dir = Files.createDirectories(tmp.resolve("bert-f16"));
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        ModelConfig config = ModelConfig.read(dir);
        int c = config.hidden();
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (Checkpoint ckpt = Checkpoint.open(source)) {
            for (String name : ckpt.names()) {
                float[] v = new float[(int) ckpt.info(name).elements()];
                ckpt.read(name, ckpt.info(name).shape(), v, 0, false);
                for (int i = 0; i < v.length; i++) v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
                writer.add(name, FloatType.F16, ckpt.info(name).shape(), v, 0, false);
            }
        }
        float[] pooler = new float[c * c + c];
        for (int i = 0; i < pooler.length; i++) {
            pooler[i] = Float.intBitsToFloat(Float.floatToIntBits(i * 0.37f - 3) & 0xFFFF0000); // bfloat16 values
        }
        writer.add("pooler.dense.weight", FloatType.BF16, new long[] {c, c}, pooler, 0, false)
                .add("pooler.dense.bias", FloatType.BF16, new long[] {c}, pooler, c * c, false)
                .write(dir.resolve("model.safetensors"));

        Path out = tmp.resolve("bert-k1");
        ModelFiles.Pruned pruned = ModelFiles.prune(dir, KeptLayers.first(1), out);
        assertEquals(List.of("pooler.dense.bias", "pooler.dense.weight"), pruned.extra());
        try (Checkpoint in = Checkpoint.open(dir);
                Checkpoint kept = Checkpoint.open(out)) {
            assertTrue(kept.names().stream().noneMatch(n -> n.startsWith("encoder.layer.1.")), "layer 1 is cut");
            assertTrue(kept.has("encoder.layer.0.output.dense.weight"));
            for (String name : kept.names()) {
                TensorInfo a = in.info(name), b = kept.info(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                float[] x = new float[(int) a.elements()], y = new float[x.length];
                in.read(name, a.shape(), x, 0, false);
                kept.read(name, b.shape(), y, 0, false);
                assertArrayEquals(x, y, 0f, name);
            }
            assertEquals("BF16", kept.info("pooler.dense.weight").dtype());
            assertEquals("F16", kept.info("embeddings.word_embeddings.weight").dtype());
        }
        assertEquals(1, ModelConfig.read(out).layers());
    }
}
