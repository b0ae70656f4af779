package slim.experiments;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import slim.nn.SlimException;

/**
 * The weights of the best validation epoch, kept in a memory-mapped temporary file instead of a fifth copy of the
 * parameters on the heap (the others: weights, gradients, AdamW's two moments): the page cache holds it while
 * memory is free and the kernel writes it out when it is not, so it never makes a cell run out of heap. The file is
 * deleted when the trainer closes it (and at exit if the process dies first).
 */
final class BestWeights implements AutoCloseable {
    private final Path file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment floats;

    BestWeights(int n) {
        try {
            file = Files.createTempFile("slim-best-weights-", ".f32");
            file.toFile().deleteOnExit();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                floats = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4L * n, arena);
            }
        } catch (IOException e) {
            throw new SlimException(
                    "cannot create a temporary file for the best epoch's weights ("
                            + System.getProperty("java.io.tmpdir") + "): " + e.getMessage(),
                    e);
        }
    }

    void keep(float[] params) {
        MemorySegment.copy(params, 0, floats, ValueLayout.JAVA_FLOAT, 0, params.length);
    }

    void restore(float[] params) {
        MemorySegment.copy(floats, ValueLayout.JAVA_FLOAT, 0, params, 0, params.length);
    }

    @Override
    public void close() {
        arena.close();
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // deleteOnExit removes it later
        }
    }
}
