package slim.nn;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the project's shared data folder (golden checkpoints, datasets, the built-in models): the
 * system property {@code slim.shared}, else the environment variable {@code SLIM_SHARED}, else a
 * folder named {@code shared} beside the working directory or one of its parents (a clone sits
 * next to it as ../shared).
 */
public final class Shared {
    private Shared() {}

    public static Path dir() {
        String configured = System.getProperty("slim.shared", System.getenv("SLIM_SHARED"));
        if (configured != null && !configured.isBlank()) return Path.of(configured);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("golden"))) return candidate;
            if (Files.isDirectory(d.resolve("shared").resolve("golden"))) return d.resolve("shared");
        }
        throw new SlimException("cannot find the shared data folder (../shared); set -Dslim.shared=DIR or SLIM_SHARED");
    }

    public static Path resolve(String first, String... more) {
        return dir().resolve(Path.of(first, more));
    }
}
