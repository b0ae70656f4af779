package slim.nn.io;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Finds the read-only reference data: -Dslim.shared, else the nearest ancestor of the working dir with a shared/ folder. */
final class SharedData {
    private SharedData() {}

    static Path resolve(String relative) {
        Path file = root().resolve(relative);
        assumeTrue(Files.exists(file), "reference data not present: " + file);
        return file;
    }

    private static Path root() {
        String property = System.getProperty("slim.shared");
        if (property != null) return Path.of(property);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared"))) return p.resolve("shared");
        }
        return Path.of("..", "shared");
    }
}
