package slim.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;

/**
 * PyTorch's zip checkpoints read as the same tensors as the safetensors they were made from, and everything a
 * state dict does not need (other globals, other opcodes, the legacy format, damaged zips, strided or out-of-range
 * tensors) is refused with an error naming the file.
 */
class PyTorchCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void binHoldsTheSafetensorsWeightsExactly() {
        Path bin = SharedData.resolve("hub-layouts/opt-tiny-bin");
        Path golden = SharedData.resolve("golden/opt-tiny");
        try (Checkpoint fromBin = Checkpoint.open(bin);
                Checkpoint reference = Checkpoint.open(golden)) {
            assertEquals(
                    bin.resolve(Checkpoint.BIN_FILE),
                    fromBin.info(reference.names().iterator().next()).file());
            for (String name : reference.names()) {
                long[] shape = reference.info(name).shape();
                assertArrayEquals(read(reference, name, shape), read(fromBin, name, shape), name);
            }
            assertTrue(fromBin.has("lm_head.weight"), "transformers saves the tied head too");
        }
    }

    @Test
    void fp16ShardsHoldTheWeightsRoundedToHalf() {
        Path sharded = SharedData.resolve("hub-layouts/opt-tiny-bin-fp16-sharded");
        Path golden = SharedData.resolve("golden/opt-tiny");
        try (Checkpoint fromBin = Checkpoint.open(sharded);
                Checkpoint reference = Checkpoint.open(golden)) {
            assertEquals("F16", fromBin.info("lm_head.weight").dtype());
            assertTrue(fromBin.info("lm_head.weight")
                    .file()
                    .getFileName()
                    .toString()
                    .endsWith("00002-of-00002.bin"));
            for (String name : reference.names()) {
                long[] shape = reference.info(name).shape();
                float[] half = read(reference, name, shape);
                for (int i = 0; i < half.length; i++) half[i] = Float.float16ToFloat(Float.floatToFloat16(half[i]));
                assertArrayEquals(half, read(fromBin, name, shape), name);
            }
        }
    }

    private static float[] read(Checkpoint c, String name, long[] shape) {
        float[] out = new float[(int) c.info(name).elements()];
        c.read(name, shape, out, 0, false);
        return out;
    }

    @Test
    void oneFileOpensAlone() {
        Path file = SharedData.resolve("hub-layouts/opt-tiny-bin/pytorch_model.bin");
        try (Checkpoint c = Checkpoint.open(file)) {
            assertArrayEquals(
                    new long[] {103, 32},
                    c.info("model.decoder.embed_tokens.weight").shape());
        }
    }

    @Test
    void otherGlobalsAreRefusedAndNothingRuns() throws IOException {
        Path marker = dir.resolve("ran");
        for (String[] global :
                new String[][] {{"os", "system"}, {"builtins", "eval"}, {"posix", "system"}, {"torch", "load"}}) {
            byte[] pickle = new PickleWriter()
                    .global(global[0], global[1])
                    .mark()
                    .string("touch " + marker)
                    .tuple()
                    .reduce()
                    .stop();
            Path file = dir.resolve("pytorch_model.bin");
            PickleWriter.writeZip(file, pickle, Map.of());
            SlimException e = assertThrows(SlimException.class, () -> Checkpoint.open(dir));
            assertMessage(
                    e, file.toString(), "'" + global[0] + "." + global[1] + "'", "refused without running anything");
            assertFalse(Files.exists(marker));
        }
    }

    @Test
    void aGlobalHiddenInsideAStateDictIsRefused() throws IOException {
        byte[] pickle = new PickleWriter()
                .op('}')
                .string("w")
                .tensor("FloatStorage", "0", 2, 0, new int[] {2}, new int[] {1})
                .op('s')
                .string("evil")
                .global("subprocess", "Popen")
                .op('s')
                .stop();
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of("0", floats(1, 2)));
        assertMessage(assertThrows(SlimException.class, () -> Checkpoint.open(dir)), "'subprocess.Popen'");
    }

    @Test
    void objectBuildingOpcodesAreRefused() throws IOException {
        byte[] pickle = new PickleWriter()
                .global("collections", "OrderedDict")
                .op(')')
                .op(0x81)
                .stop(); // NEWOBJ
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of());
        assertMessage(
                assertThrows(SlimException.class, () -> Checkpoint.open(dir)), "opcode 0x81", "pytorch_model.bin");
    }

    @Test
    void orderedDictRootWithMetadataAsOlderTorchWritesIt() throws IOException {
        byte[] pickle = new PickleWriter()
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .mark()
                .string("w")
                .tensor("HalfStorage", "7", 6, 2, new int[] {2, 2}, new int[] {2, 1})
                .op('u')
                .op('}')
                .string("_metadata")
                .global("collections", "OrderedDict")
                .op(')')
                .reduce()
                .op('s')
                .op('b')
                .stop();
        ByteBuffer half = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) half.putShort(Float.floatToFloat16(i * 0.5f));
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of("7", half.array()));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals("F16", c.info("w").dtype());
            assertArrayEquals(
                    new float[] {1, 1.5f, 2, 2.5f}, read(c, "w", new long[] {2, 2}), "offset 2 into the storage");
        }
    }

    @Test
    void stridedTensorsAreRefused() throws IOException {
        byte[] pickle = new PickleWriter()
                .op('}')
                .string("t")
                .tensor("FloatStorage", "0", 6, 0, new int[] {3, 2}, new int[] {1, 3})
                .op('s')
                .stop();
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of("0", floats(1, 2, 3, 4, 5, 6)));
        assertMessage(assertThrows(SlimException.class, () -> Checkpoint.open(dir)), "'t'", "[1, 3]", "not contiguous");
    }

    @Test
    void tensorsPastTheirStorageAreRefused() throws IOException {
        byte[] pickle = new PickleWriter()
                .op('}')
                .string("t")
                .tensor("FloatStorage", "0", 4, 2, new int[] {3}, new int[] {1})
                .op('s')
                .stop();
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of("0", floats(1, 2, 3, 4)));
        assertMessage(assertThrows(SlimException.class, () -> Checkpoint.open(dir)), "'t'", "[2, 5)", "storage of 4");
    }

    @Test
    void storageShorterThanItsElementCountIsRefused() throws IOException {
        byte[] pickle = new PickleWriter()
                .op('}')
                .string("t")
                .tensor("FloatStorage", "0", 4, 0, new int[] {4}, new int[] {1})
                .op('s')
                .stop();
        PickleWriter.writeZip(dir.resolve("pytorch_model.bin"), pickle, Map.of("0", floats(1, 2, 3)));
        assertMessage(
                assertThrows(SlimException.class, () -> Checkpoint.open(dir)),
                "archive/data/0",
                "holds 12 bytes",
                "need 16");
    }

    @Test
    void truncatedBinIsRefused() throws IOException {
        byte[] whole = Files.readAllBytes(SharedData.resolve("hub-layouts/opt-tiny-bin/pytorch_model.bin"));
        Path file = dir.resolve("pytorch_model.bin");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        assertMessage(
                assertThrows(SlimException.class, () -> Checkpoint.open(dir)), file.toString(), "truncated or damaged");
    }

    @Test
    void legacyFormatSaysHowToConvert() throws IOException {
        // torch < 1.6: a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c, then more pickles, no zip
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc});
        assertMessage(
                assertThrows(SlimException.class, () -> Checkpoint.open(dir)),
                "pytorch_model.bin",
                "legacy",
                "torch >= 1.6",
                "safetensors");
    }

    @Test
    void safetensorsWinOverBinInOneFolder() throws IOException {
        Files.copy(SharedData.resolve("hub-layouts/opt-tiny-bin/pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        new SafeTensorsWriter()
                .add("only.here", new long[] {1}, new float[] {3}, 0, false)
                .write(dir.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(Set.of("only.here"), c.names());
        }
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private static void assertMessage(SlimException e, String... parts) {
        for (String part : parts) assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
    }
}
