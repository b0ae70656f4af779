package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;

/**
 * Mutants of the golden checkpoints and their configs, made the ways files get damaged or forged (header
 * lengths and byte ranges off, aliased, shifted or dropped; names twice; dtypes and shapes changed; bytes
 * overwritten; files cut or extended; config values out of range, missing or twice), plus rewrites that
 * change nothing (entries reordered, header padded). Every mutant must either be refused with a
 * SlimException naming the file, or load to exactly the original weights: never wrong weights, never
 * another exception.
 */
class CheckpointFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] FOLDERS = {"gpt2-tiny", "opt-tiny", "opt-postln-proj-tiny", "llama-tiny"};
    private static final int MUTANTS = 320;
    private static final String[] DTYPES = {"F16", "BF16", "I32", "F64", "U8", "F33", "f32", ""};
    private static final String[] BAD_VALUES = {
        "-1", "0", "0.5", "1.5", "2.0", "1e9", "1000000000", "9000", "\"text\"", "null", "true", "[1]", "-0.0"
    };

    @TempDir
    Path tmp;

    /** One golden folder as bytes: the safetensors header (parsed), its data section, and config.json. */
    private record Source(Path dir, ObjectNode header, byte[] data, ObjectNode config, int layers) {
        static Source read(String folder) throws IOException {
            Path dir = Shared.resolve("golden", folder);
            byte[] file = Files.readAllBytes(dir.resolve(Checkpoint.SINGLE_FILE));
            int headerLength =
                    (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, headerLength, StandardCharsets.UTF_8));
            byte[] data = Arrays.copyOfRange(file, 8 + headerLength, file.length);
            ObjectNode config =
                    (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            return new Source(dir, header, data, config, ModelConfig.read(dir).layers());
        }

        List<String> tensors() {
            List<String> names = new ArrayList<>();
            header.fieldNames().forEachRemaining(n -> {
                if (!n.equals("__metadata__")) names.add(n);
            });
            return names;
        }
    }

    /** A mutant folder's contents and what was done to make it. */
    private record Mutant(String what, byte[] checkpoint, String config) {}

    @Test
    void everyMutantIsRefusedCleanlyOrLoadsTheOriginalWeights() throws IOException {
        Random random = new Random(13);
        List<Source> sources = new ArrayList<>();
        for (String f : FOLDERS) sources.add(Source.read(f));
        Path dir = tmp.resolve("mutant");
        Files.createDirectories(dir);
        int refused = 0, loaded = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Source s = sources.get(random.nextInt(sources.size()));
            Mutant m = mutate(s, random);
            Files.write(dir.resolve(Checkpoint.SINGLE_FILE), m.checkpoint());
            Files.writeString(dir.resolve("config.json"), m.config());
            int keep = random.nextBoolean() ? 1 : s.layers();
            String label = "mutant " + i + " of " + s.dir().getFileName() + " (" + m.what() + "), keeping " + keep;
            Model model;
            try {
                model = ModelFiles.load(
                        dir, keep, ModelFiles.Options.builder().maxTokens(8).build());
            } catch (SlimException e) {
                String message = e.getMessage();
                assertTrue(
                        message != null
                                && (message.contains(Checkpoint.SINGLE_FILE) || message.contains("config.json")),
                        label + ": the refusal does not name the file: " + message);
                refused++;
                continue;
            } catch (RuntimeException | Error e) {
                throw new AssertionError(label + ": failed with " + e + " instead of a SlimException", e);
            }
            assertOriginalWeights(s, model, label);
            loaded++;
        }
        assertTrue(
                refused > MUTANTS / 2 && loaded > 10,
                refused + " refused, " + loaded + " loaded: the mutations miss their aim");
    }

    private static void assertOriginalWeights(Source s, Model model, String label) {
        ParamLayout layout = model.layout();
        try (Checkpoint original = Checkpoint.open(s.dir())) {
            for (ParamLayout.Binding b : layout.bindings()) {
                float[] expected = new float[b.length()];
                original.read(b.tensor(), b.shape(), expected, 0, false);
                assertArrayEquals(
                        expected,
                        layout.export(model.params().block, b),
                        0f,
                        label + ": loaded " + b.tensor() + " differs from the original");
            }
        }
    }

    private static Mutant mutate(Source s, Random random) throws IOException {
        ObjectNode header = s.header().deepCopy();
        ObjectNode config = s.config().deepCopy();
        List<String> names = s.tensors();
        String a = names.get(random.nextInt(names.size())), b = names.get(random.nextInt(names.size()));
        ArrayNode offsets = (ArrayNode) header.get(a).get("data_offsets");
        int delta = (random.nextBoolean() ? 1 : -1) * (1 + random.nextInt(random.nextBoolean() ? 4 : 64));
        byte[] data = s.data();
        String headerText = null, configText = null;
        long lengthDelta = 0;
        String what;
        switch (random.nextInt(16)) {
            case 0 -> {
                lengthDelta = delta;
                what = "header length " + delta;
            }
            case 1 -> {
                int end = random.nextInt(2);
                offsets.set(end, Math.max(0, offsets.get(end).asLong() + delta));
                what = a + " data_offsets[" + end + "] " + delta;
            }
            case 2 -> {
                long shift = 4L * delta;
                offsets.set(0, Math.max(0, offsets.get(0).asLong() + shift));
                offsets.set(1, Math.max(0, offsets.get(1).asLong() + shift));
                what = a + " shifted by " + shift;
            }
            case 3 -> {
                ((ObjectNode) header.get(a))
                        .set("data_offsets", header.get(b).get("data_offsets").deepCopy());
                what = a + " aliases " + b;
            }
            case 4 -> {
                headerText = JSON.writeValueAsString(header).replaceFirst("\"" + a + "\"", "\"" + b + "\"");
                what = a + " renamed " + b;
            }
            case 5 -> {
                String dtype = DTYPES[random.nextInt(DTYPES.length)];
                ((ObjectNode) header.get(a)).put("dtype", dtype);
                what = a + " dtype " + dtype;
            }
            case 6 -> {
                ArrayNode shape = (ArrayNode) header.get(a).get("shape");
                int choice = random.nextInt(3);
                if (choice == 0) shape.add(1);
                else if (choice == 1 && shape.size() == 2) shape.insert(0, shape.remove(1));
                else shape.set(0, Math.max(0, shape.get(0).asLong() + delta));
                what = a + " shape " + shape;
            }
            case 7 -> {
                data = random.nextBoolean()
                        ? Arrays.copyOf(data, random.nextInt(data.length))
                        : Arrays.copyOf(data, data.length + 1 + random.nextInt(16));
                what = "data section of " + data.length + " bytes";
            }
            case 8 -> {
                byte[] bytes = JSON.writeValueAsBytes(header);
                int at = random.nextInt(bytes.length);
                bytes[at] = (byte) random.nextInt(256);
                headerText = new String(bytes, StandardCharsets.ISO_8859_1);
                what = "header byte " + at + " overwritten";
            }
            case 9 -> {
                ObjectNode reordered = JSON.createObjectNode();
                List<String> all = new ArrayList<>();
                header.fieldNames().forEachRemaining(all::add);
                for (String n : all.reversed()) reordered.set(n, header.get(n));
                headerText = JSON.writeValueAsString(reordered) + " ".repeat(random.nextInt(8));
                what = "entries reversed, header padded";
            }
            case 10 -> {
                header.remove(a);
                what = a + " removed";
            }
            case 11, 12 -> {
                List<String> keys = new ArrayList<>();
                config.fieldNames().forEachRemaining(keys::add);
                String key = keys.get(random.nextInt(keys.size()));
                String value = BAD_VALUES[random.nextInt(BAD_VALUES.length)];
                config.set(key, JSON.readTree(value));
                what = "config " + key + " = " + value;
            }
            case 13 -> {
                List<String> keys = new ArrayList<>();
                config.fieldNames().forEachRemaining(keys::add);
                String key = keys.get(random.nextInt(keys.size()));
                config.remove(key);
                what = "config without " + key;
            }
            case 14 -> {
                List<String> keys = new ArrayList<>();
                config.fieldNames().forEachRemaining(keys::add);
                String key = keys.get(random.nextInt(keys.size()));
                configText = JSON.writeValueAsString(config).replaceFirst("\\{", "{\"" + key + "\": 7, ");
                what = "config " + key + " twice";
            }
            default -> {
                String text = JSON.writeValueAsString(config);
                configText = text.substring(0, random.nextInt(text.length()));
                what = "config cut to " + configText.length() + " characters";
            }
        }
        byte[] headerBytes =
                headerText != null ? headerText.getBytes(StandardCharsets.ISO_8859_1) : JSON.writeValueAsBytes(header);
        ByteBuffer file =
                ByteBuffer.allocate(8 + headerBytes.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(headerBytes.length + lengthDelta).put(headerBytes).put(data);
        return new Mutant(what, file.array(), configText != null ? configText : JSON.writeValueAsString(config));
    }
}
