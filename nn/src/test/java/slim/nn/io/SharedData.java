package slim.nn.io;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import slim.nn.Shared;

/** A file of the read-only reference data ({@link slim.nn.Shared}); the test is skipped where it is absent. */
final class SharedData {
    private SharedData() {}

    static Path resolve(String relative) {
        Path file = Shared.dir().resolve(relative);
        assumeTrue(Files.exists(file), "reference data not present: " + file);
        return file;
    }
}
