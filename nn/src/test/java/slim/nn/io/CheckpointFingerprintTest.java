package slim.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;

/** A checkpoint's fingerprint follows its tensors' content, not its folder or its file format. */
class CheckpointFingerprintTest {
    static final Path LLAMA = Shared.resolve("golden", "llama-tiny");
    static final Path OPT_BIN = Shared.resolve("hub-layouts", "opt-tiny-bin");

    @TempDir
    Path dir;

    private static String fingerprint(Path folder) {
        try (Checkpoint c = Checkpoint.open(folder)) {
            return c.fingerprint();
        }
    }

    @Test
    void aCopyElsewhereHasTheSameFingerprint() throws IOException {
        Files.copy(LLAMA.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        assertEquals(fingerprint(LLAMA), fingerprint(dir));
    }

    /** One changed byte in the first sampled window of one tensor is another model. */
    @Test
    void oneChangedWeightChangesTheFingerprint() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.copy(LLAMA.resolve("model.safetensors"), file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(length, 0);
            long dataStart = 8 + length.getLong(0);
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, dataStart + 2);
            b.put(0, (byte) (b.get(0) ^ 0x10));
            ch.write(b.rewind(), dataStart + 2);
        }
        assertNotEquals(fingerprint(LLAMA), fingerprint(dir));
    }

    /** The same fp32 tensors written as safetensors fingerprint as the PyTorch .bin they came from. */
    @Test
    void theSameTensorsInAnotherFormatHaveTheSameFingerprint() {
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (Checkpoint bin = Checkpoint.open(OPT_BIN)) {
            for (String name : bin.names()) {
                TensorInfo t = bin.info(name);
                assertEquals("F32", t.dtype(), name);
                float[] values = new float[(int) t.elements()];
                bin.read(name, t.shape(), values, 0, false);
                writer.add(name, t.shape(), values, 0, false);
            }
        }
        writer.write(dir.resolve("model.safetensors"));
        assertEquals(fingerprint(OPT_BIN), fingerprint(dir));
    }
}
