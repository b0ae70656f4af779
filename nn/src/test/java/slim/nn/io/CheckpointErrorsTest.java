package slim.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;

/**
 * Every malformed checkpoint fails with a SlimException naming the file, the tensor where there is one, and the
 * problem.
 */
class CheckpointErrorsTest {
    @TempDir
    Path dir;

    private Path model() {
        return dir.resolve("model.safetensors");
    }

    private void assertOpenFails(String... expectedParts) {
        assertMessage(assertThrows(SlimException.class, () -> Checkpoint.open(dir)), expectedParts);
    }

    private static void assertMessage(SlimException e, String... expectedParts) {
        for (String part : expectedParts)
            assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
    }

    private void writeHeader(String json, int dataBytes) {
        RawSafeTensors.write(model(), json, new byte[dataBytes]);
    }

    @Test
    void fileShorterThanLengthPrefix() throws IOException {
        Files.write(model(), new byte[] {1, 2, 3});
        assertOpenFails("model.safetensors", "too short");
    }

    @Test
    void headerLengthBeyondFile() {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        RawSafeTensors.write(model(), 1000, header, new byte[0]);
        assertOpenFails("model.safetensors", "header length 1000 exceeds the file size 10");
    }

    @Test
    void absurdHeaderLength() {
        RawSafeTensors.write(model(), 1L << 40, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertOpenFails("model.safetensors", "absurd");
        RawSafeTensors.write(model(), -1, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertOpenFails("model.safetensors", "absurd");
    }

    @Test
    void headerNotJson() {
        writeHeader("{\"a\": [1, 2", 0);
        assertOpenFails("model.safetensors", "not valid JSON");
        writeHeader("{\"a\": {\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}} trailing", 4);
        assertOpenFails("model.safetensors", "not valid JSON");
        writeHeader("[1, 2]", 0);
        assertOpenFails("model.safetensors", "does not start with '{'");
        writeHeader("{\"a\": 1}", 0);
        assertOpenFails("model.safetensors", "'a'", "not a JSON object");
    }

    @Test
    void headerNotUtf8() {
        byte[] header =
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        header[3] = (byte) 0xC3; // a two-byte sequence's lead, followed by an ASCII byte
        RawSafeTensors.write(model(), header.length, header, new byte[4]);
        assertOpenFails("model.safetensors", "not valid UTF-8");
    }

    @Test
    void duplicateNameIsRefused() {
        writeHeader(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8);
        assertOpenFails("model.safetensors", "Duplicate field 't'");
    }

    @Test
    void overlappingOrAliasedRangesAreRefused() {
        writeHeader(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12);
        assertOpenFails("model.safetensors", "'b'", "[4, 12]", "overlaps the bytes of tensor 'a'");
        writeHeader(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                8);
        assertOpenFails("model.safetensors", "overlaps the bytes of tensor");
    }

    @Test
    void gapsAndTrailingBytesAreRefused() {
        writeHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        assertOpenFails("model.safetensors", "'a'", "leaves 4 bytes unaccounted for");
        writeHeader(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                12);
        assertOpenFails("model.safetensors", "'b'", "leaves 4 bytes unaccounted for");
        writeHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 5);
        assertOpenFails("model.safetensors", "end at byte 4 of the data but it holds 5");
    }

    /**
     * A header padded with spaces (as the format allows) still parses when its length is one short: the data then start
     * a byte early.
     */
    @Test
    void headerLengthOffByOneIsRefused() {
        byte[] header =
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ".getBytes(StandardCharsets.UTF_8);
        RawSafeTensors.write(model(), header.length - 1, header, new byte[4]);
        assertOpenFails("model.safetensors", "end at byte 4 of the data but it holds 5");
    }

    @Test
    void malformedEntries() {
        writeHeader("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertOpenFails("model.safetensors", "'t'", "dtype");
        writeHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4);
        assertOpenFails("model.safetensors", "'t'", "shape");
        writeHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4);
        assertOpenFails("model.safetensors", "'t'", "data_offsets");
    }

    @Test
    void offsetsPastTheData() {
        writeHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
        assertOpenFails("model.safetensors", "'t'", "[0, 8]", "past the 4 data bytes");
    }

    @Test
    void offsetsEndBeforeBegin() {
        writeHeader("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8);
        assertOpenFails("model.safetensors", "'t'", "end before");
    }

    @Test
    void offsetsDisagreeWithShape() {
        writeHeader("{\"t\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertOpenFails("model.safetensors", "'t'", "hold 8 bytes", "needs 6");
    }

    @Test
    void integerTensorOpensButDoesNotReadAsFloat() {
        writeHeader(
                "{\"embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}",
                20);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals("I64", ckpt.info("embeddings.position_ids").dtype());
            ckpt.read("w", new long[] {1}, new float[1], 0, false);
            SlimException e = assertThrows(
                    SlimException.class,
                    () -> ckpt.read("embeddings.position_ids", new long[] {1, 2}, new float[2], 0, false));
            assertMessage(e, "model.safetensors", "'embeddings.position_ids'", "I64");
            assertEquals(4, ckpt.bytesRead());
        }
    }

    /**
     * The byte length of a dtype the format does not define cannot be checked, so such a file is refused as a whole.
     */
    @Test
    void unknownDtypeIsRefused() {
        writeHeader("{\"odd\":{\"dtype\":\"F8_E9\",\"shape\":[3],\"data_offsets\":[0,5]}}", 5);
        assertOpenFails("model.safetensors", "'odd'", "unknown dtype 'F8_E9'");
    }

    @Test
    void shapeMismatchNamesBothShapes() {
        new SafeTensorsWriter()
                .add("w", new long[] {2, 3}, new float[6], 0, false)
                .write(model());
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            SlimException e =
                    assertThrows(SlimException.class, () -> ckpt.read("w", new long[] {3, 2}, new float[6], 0, false));
            assertMessage(e, "model.safetensors", "'w'", "[2, 3]", "[3, 2]");
            assertEquals(0, ckpt.bytesRead());
        }
    }

    @Test
    void transposingNon2dTensorFails() {
        new SafeTensorsWriter().add("v", new long[] {6}, new float[6], 0, false).write(model());
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            SlimException e =
                    assertThrows(SlimException.class, () -> ckpt.read("v", new long[] {6}, new float[6], 0, true));
            assertMessage(e, "model.safetensors", "'v'", "transpose");
        }
    }

    @Test
    void missingTensorNamesTheFile() {
        new SafeTensorsWriter().add("w", new long[] {1}, new float[1], 0, false).write(model());
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            SlimException e =
                    assertThrows(SlimException.class, () -> ckpt.read("x", new long[] {1}, new float[1], 0, false));
            assertMessage(e, "model.safetensors: no tensor 'x'");
        }
    }

    @Test
    void indexNamingMissingShard() throws IOException {
        new SafeTensorsWriter()
                .add("a", new long[] {1}, new float[1], 0, false)
                .write(dir.resolve("shard-1.safetensors"));
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"shard-1.safetensors\",\"b\":\"shard-2.safetensors\"}}");
        assertOpenFails("model.safetensors.index.json", "'b'", "shard-2.safetensors", "missing");
    }

    @Test
    void indexNamingTensorItsShardLacks() throws IOException {
        new SafeTensorsWriter()
                .add("a", new long[] {1}, new float[1], 0, false)
                .write(dir.resolve("shard-1.safetensors"));
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"shard-1.safetensors\",\"ghost\":\"shard-1.safetensors\"}}");
        assertOpenFails("shard-1.safetensors: no tensor 'ghost'", "model.safetensors.index.json");
    }

    @Test
    void indexThatIsNotJsonOrHasNoWeightMap() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": ");
        assertOpenFails("model.safetensors.index.json", "not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertOpenFails("model.safetensors.index.json", "weight_map");
    }

    @Test
    void folderWithoutModelFiles() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        assertOpenFails("no model.safetensors, model.safetensors.index.json, pytorch_model.bin or"
                + " pytorch_model.bin.index.json in "
                + dir);
        new SafeTensorsWriter().write(dir.resolve("a.safetensors"));
        new SafeTensorsWriter().write(dir.resolve("b.safetensors"));
        assertOpenFails(
                "no model.safetensors, model.safetensors.index.json, pytorch_model.bin or"
                        + " pytorch_model.bin.index.json in "
                        + dir,
                "2 *.safetensors");
    }

    @Test
    void missingFolder() {
        Path nowhere = dir.resolve("nowhere");
        SlimException e = assertThrows(SlimException.class, () -> Checkpoint.open(nowhere));
        assertMessage(e, nowhere.toString());
    }
}
