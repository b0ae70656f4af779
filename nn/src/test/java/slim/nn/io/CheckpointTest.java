package slim.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;

class CheckpointTest {
    @TempDir
    Path dir;

    private static float[] ramp(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i - n / 3f) * scale;
        return a;
    }

    @Test
    void f32RoundTripKeepsEveryBitAndOffsets() {
        float[] w = ramp(3 * 5, 0.37f);
        w[4] = Float.NaN;
        w[5] = -0f;
        w[6] = Float.MIN_VALUE;
        float[] packed = new float[7 + 4];
        float[] bias = {1.5f, -2.25f, 3e-30f, 7e30f};
        System.arraycopy(bias, 0, packed, 7, 4);
        new SafeTensorsWriter()
                .add("w", new long[] {3, 5}, w, 0, false)
                .add("b", new long[] {4}, packed, 7, false)
                .add("scalar", new long[] {}, new float[] {42f}, 0, false)
                .write(dir.resolve("model.safetensors"));

        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(List.of("b", "scalar", "w"), List.copyOf(ckpt.names()));
            assertTrue(ckpt.has("w"));
            assertFalse(ckpt.has("x"));
            assertArrayEquals(new long[] {3, 5}, ckpt.info("w").shape());
            assertEquals(15, ckpt.info("w").elements());
            assertEquals("F32", ckpt.info("w").dtype());

            float[] got = new float[2 + 15];
            ckpt.read("w", new long[] {3, 5}, got, 2, false);
            assertArrayEquals(bitsOf(w), bitsOf(Arrays.copyOfRange(got, 2, 17)));
            float[] gotBias = new float[4];
            ckpt.read("b", new long[] {4}, gotBias, 0, false);
            assertArrayEquals(bias, gotBias);
            float[] s = new float[1];
            ckpt.read("scalar", new long[] {}, s, 0, false);
            assertEquals(42f, s[0]);
            assertEquals(4L * (15 + 4 + 1), ckpt.bytesRead());
        }
    }

    private static int[] bitsOf(float[] a) {
        return IntStream.range(0, a.length)
                .map(i -> Float.floatToRawIntBits(a[i]))
                .toArray();
    }

    @Test
    void transposeOnWriteAndOnReadAreInverse() {
        int r = 37, c = 70; // more rows than one transpose block, and not a multiple of it
        float[] stored = ramp(r * c, 0.01f);
        float[] transposed = new float[c * r];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) transposed[j * r + i] = stored[i * c + j];
        // The writer gets the [c, r] layout and must store [r, c].
        new SafeTensorsWriter()
                .add("conv", new long[] {r, c}, transposed, 0, true)
                .write(dir.resolve("model.safetensors"));

        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            float[] plain = new float[r * c];
            ckpt.read("conv", new long[] {r, c}, plain, 0, false);
            assertArrayEquals(stored, plain);
            float[] back = new float[1 + r * c];
            ckpt.read("conv", new long[] {r, c}, back, 1, true);
            assertArrayEquals(transposed, Arrays.copyOfRange(back, 1, back.length));
        }
    }

    @Test
    void writerPadsHeaderToEightBytesAndMarksFormat() throws IOException {
        Path file = dir.resolve("x.safetensors");
        new SafeTensorsWriter()
                .add("abc", new long[] {2}, new float[] {1, 2}, 0, false)
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength =
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8);
        assertEquals(8 + headerLength + 8, bytes.length);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength));
        assertEquals("pt", header.get("__metadata__").get("format").asText());
        assertEquals("[0,8]", header.get("abc").get("data_offsets").toString());
        assertEquals(2f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + headerLength + 4)));
    }

    @Test
    void writerReplacesExistingFileAndLeavesNoTemporaries() throws IOException {
        Path file = dir.resolve("model.safetensors");
        new SafeTensorsWriter()
                .add("a", new long[] {1}, new float[] {1}, 0, false)
                .write(file);
        new SafeTensorsWriter()
                .add("b", new long[] {2}, new float[] {2, 3}, 0, false)
                .write(file);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(Set.of("b"), ckpt.names());
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void failedWriteKeepsNoTemporaryAndNamesFile() throws IOException {
        Path target = Files.createDirectories(dir.resolve("occupied.safetensors"));
        Files.writeString(target.resolve("keep"), "x");
        SlimException e = assertThrows(
                SlimException.class,
                () -> new SafeTensorsWriter()
                        .add("a", new long[] {1}, new float[] {1}, 0, false)
                        .write(target));
        assertTrue(e.getMessage().contains("occupied.safetensors"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void writerRejectsDuplicateNamesAndShortSources() {
        SafeTensorsWriter w = new SafeTensorsWriter().add("a", new long[] {2}, new float[2], 0, false);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", new long[] {2}, new float[2], 0, false));
        assertThrows(IndexOutOfBoundsException.class, () -> w.add("b", new long[] {2, 2}, new float[4], 1, false));
        assertThrows(IllegalArgumentException.class, () -> w.add("c", new long[] {4}, new float[4], 0, true));
    }

    @Test
    void readsF16() {
        // 1, -2, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), +inf
        RawSafeTensors.write(
                dir.resolve("model.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}",
                RawSafeTensors.halves(0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            float[] got = new float[6];
            ckpt.read("h", new long[] {2, 3}, got, 0, false);
            assertArrayEquals(new float[] {1f, -2f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY}, got);
            ckpt.read("h", new long[] {2, 3}, got, 0, true);
            assertArrayEquals(new float[] {1f, 65504f, -2f, 0x1p-24f, 0.5f, Float.POSITIVE_INFINITY}, got);
            assertEquals(24, ckpt.bytesRead());
        }
    }

    @Test
    void readsBF16AsTheHighHalfOfAFloat() {
        float pi = Float.intBitsToFloat(0x40490000); // 3.140625, pi cut to bfloat16
        // The header is not padded here, so the data starts at an odd offset: reads must not assume alignment.
        RawSafeTensors.write(
                dir.resolve("model.safetensors"),
                "{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}} ",
                RawSafeTensors.halves(0x3F80, 0xC000, 0x4049, 0xFF80));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            float[] got = new float[4];
            ckpt.read("b", new long[] {4}, got, 0, false);
            assertArrayEquals(new float[] {1f, -2f, pi, Float.NEGATIVE_INFINITY}, got);
        }
    }

    @Test
    void writesF16AndBF16SoThatTheyReadBackBitForBit() {
        // Values a half and a bfloat16 hold exactly (as a checkpoint stored in them does), and one to round.
        float[] half = {1f, -2f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY};
        float[] brain = {1f, -2f, Float.intBitsToFloat(0x40490000), Float.NEGATIVE_INFINITY, 0x1p-130f, 3.14159265f};
        float[] conv = {1, 2, 3, 4, 5, 6}; // [3, 2] in the block, written as its transpose [2, 3]
        new SafeTensorsWriter()
                .add("h", FloatType.F16, new long[] {2, 3}, half, 0, false)
                .add("b", FloatType.BF16, new long[] {6}, brain, 0, false)
                .add("t", FloatType.F16, new long[] {2, 3}, conv, 0, true)
                .write(dir.resolve("model.safetensors"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals("F16", ckpt.info("h").dtype());
            assertEquals("BF16", ckpt.info("b").dtype());
            assertEquals(12, ckpt.info("h").bytes());
            assertEquals(ckpt.info("h").dataEnd(), ckpt.info("b").dataBegin());
            float[] got = new float[6];
            ckpt.read("h", new long[] {2, 3}, got, 0, false);
            assertArrayEquals(bitsOf(half), bitsOf(got));
            ckpt.read("b", new long[] {6}, got, 0, false);
            // pi rounds to the nearest bfloat16, 3.140625 (0x4049); the rest are exact
            float[] expected = brain.clone();
            expected[5] = Float.intBitsToFloat(0x40490000);
            assertArrayEquals(bitsOf(expected), bitsOf(got));
            ckpt.read("t", new long[] {2, 3}, got, 0, false);
            assertArrayEquals(new float[] {1, 3, 5, 2, 4, 6}, got);
        }
    }

    @Test
    void f32DataAtUnalignedOffsetReads() {
        String header = "{\"v\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        assertNotEquals(0, header.length() % 4);
        RawSafeTensors.write(dir.resolve("model.safetensors"), header, RawSafeTensors.floats(1.25f, -7f, 1e-3f));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            float[] got = new float[3];
            ckpt.read("v", new long[] {3}, got, 0, false);
            assertArrayEquals(new float[] {1.25f, -7f, 1e-3f}, got);
        }
    }

    @Test
    void shardedCheckpointJoinsShardsThroughTheIndex() throws IOException {
        new SafeTensorsWriter()
                .add("embed", new long[] {2, 2}, new float[] {1, 2, 3, 4}, 0, false)
                .add("layer.0", new long[] {3}, new float[] {5, 6, 7}, 0, false)
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafeTensorsWriter()
                .add("layer.1", new long[] {2}, new float[] {8, 9}, 0, false)
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 36},
                 "weight_map": {"embed": "model-00001-of-00002.safetensors",
                                "layer.0": "model-00001-of-00002.safetensors",
                                "layer.1": "model-00002-of-00002.safetensors"}}
                """);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(dir, ckpt.dir());
            assertEquals(List.of("embed", "layer.0", "layer.1"), List.copyOf(ckpt.names()));
            assertEquals(
                    dir.resolve("model-00002-of-00002.safetensors"),
                    ckpt.info("layer.1").file());
            float[] got = new float[2];
            ckpt.read("layer.1", new long[] {2}, got, 0, false);
            assertArrayEquals(new float[] {8, 9}, got);
            float[] embed = new float[4];
            ckpt.read("embed", new long[] {2, 2}, embed, 0, true);
            assertArrayEquals(new float[] {1, 3, 2, 4}, embed);
            assertEquals(8 + 16, ckpt.bytesRead());
            SlimException e = assertThrows(SlimException.class, () -> ckpt.info("layer.2"));
            assertTrue(e.getMessage().contains("model.safetensors.index.json: no tensor 'layer.2'"), e.getMessage());
        }
    }

    @Test
    void soleSafetensorsFileOrFilePathOpens() {
        Path file = dir.resolve("pytorch_model.safetensors");
        new SafeTensorsWriter()
                .add("a", new long[] {1}, new float[] {3}, 0, false)
                .write(file);
        try (Checkpoint byDir = Checkpoint.open(dir);
                Checkpoint byFile = Checkpoint.open(file)) {
            assertEquals(Set.of("a"), byDir.names());
            assertEquals(Set.of("a"), byFile.names());
            assertEquals(file.toAbsolutePath().getParent(), byFile.dir());
        }
    }

    @Test
    void readAfterCloseFails() {
        new SafeTensorsWriter()
                .add("a", new long[] {1}, new float[] {3}, 0, false)
                .write(dir.resolve("model.safetensors"));
        Checkpoint ckpt = Checkpoint.open(dir);
        ckpt.read("a", new long[] {1}, new float[1], 0, false);
        ckpt.close();
        ckpt.close();
        assertThrows(IllegalStateException.class, () -> ckpt.read("a", new long[] {1}, new float[1], 0, false));
    }
}
