package slim.nn.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import slim.nn.SlimException;

/**
 * Writes a file so that a reader, or a run killed midway, sees either the old file or the whole new
 * one, never a part: the content goes to a hidden temporary sibling (named for this process and
 * moment, so concurrent writers never share one), which is then renamed over the file. A failure
 * deletes the temporary file and is reported with the file it was for.
 */
public final class AtomicFile {

    /** Writes the content to the given (temporary) path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    private AtomicFile() {}

    public static void write(Path file, Content content) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve(
                "." + file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        try {
            Files.createDirectories(dir);
            content.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // The original error is the one worth reporting.
            }
            if (e instanceof RuntimeException r) throw r;
            throw new SlimException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static void writeString(Path file, String text) {
        write(file, tmp -> Files.writeString(tmp, text));
    }
}
