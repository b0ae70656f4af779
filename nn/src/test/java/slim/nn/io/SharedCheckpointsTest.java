package slim.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checkpoints in the shared reference data, as the hub serves them. */
class SharedCheckpointsTest {

    @Test
    void gpt2TinyReadsOnlyWhatIsAsked() throws Exception {
        Path dir = SharedData.resolve("golden/gpt2-tiny");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertTrue(ckpt.names()
                    .containsAll(List.of("wte.weight", "wpe.weight", "h.0.attn.c_attn.weight", "ln_f.weight")));
            TensorInfo wte = ckpt.info("wte.weight");
            assertEquals(2, wte.shape().length);
            assertEquals(0, ckpt.bytesRead());

            float[] embeddings = new float[(int) wte.elements()];
            ckpt.read("wte.weight", wte.shape(), embeddings, 0, false);
            assertEquals(wte.bytes(), ckpt.bytesRead());

            // GPT-2's Conv1D stores [in, out]; a Linear wants [out, in].
            TensorInfo attn = ckpt.info("h.0.attn.c_attn.weight");
            long[] shape = attn.shape();
            int in = (int) shape[0], out = (int) shape[1];
            float[] stored = new float[in * out];
            float[] linear = new float[in * out];
            ckpt.read(attn.name(), shape, stored, 0, false);
            ckpt.read(attn.name(), shape, linear, 0, true);
            for (int i = 0; i < in; i++)
                for (int o = 0; o < out; o++) assertEquals(stored[i * out + o], linear[o * in + i]);
            assertEquals(wte.bytes() + 2 * attn.bytes(), ckpt.bytesRead());

            long dataBytes =
                    ckpt.names().stream().mapToLong(n -> ckpt.info(n).bytes()).sum();
            assertTrue(ckpt.bytesRead() < dataBytes);
            assertTrue(dataBytes < Files.size(dir.resolve("model.safetensors")));
            assertTrue(anyNonZero(embeddings));
        }
    }

    @Test
    void miniLmOpensAndEveryFloatTensorReads() {
        Path dir = SharedData.resolve("models/all-MiniLM-L6-v2");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            long largest = ckpt.names().stream()
                    .mapToLong(n -> ckpt.info(n).elements())
                    .max()
                    .orElseThrow();
            float[] buffer = new float[(int) largest];
            long expected = 0;
            int read = 0;
            for (String name : ckpt.names()) {
                TensorInfo t = ckpt.info(name);
                if (t.dtype().startsWith("I")) continue;
                ckpt.read(name, t.shape(), buffer, 0, false);
                expected += t.bytes();
                read++;
                for (int i = 0; i < t.elements(); i++) assertTrue(Float.isFinite(buffer[i]), name);
            }
            assertTrue(read > 100, "tensors read: " + read);
            assertEquals(expected, ckpt.bytesRead());
            assertArrayEquals(
                    new long[] {30522, 384},
                    ckpt.info("embeddings.word_embeddings.weight").shape());
        }
    }

    private static boolean anyNonZero(float[] a) {
        for (float v : a) if (v != 0) return true;
        return false;
    }
}
