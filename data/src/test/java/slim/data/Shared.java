package slim.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** The read-only reference data: -Dslim.shared=DIR, else the shared/ beside the repository. */
public final class Shared {
    private Shared() {
    }

    public static Path dir() {
        String property = System.getProperty("slim.shared");
        if (property != null) return Path.of(property);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/datasets"))) return p.resolve("shared");
            if (Files.isDirectory(p.resolveSibling("shared").resolve("datasets"))) return p.resolveSibling("shared");
        }
        throw new IllegalStateException("no shared/ folder above " + Path.of("").toAbsolutePath());
    }

    public static Path datasets() {
        return dir().resolve("datasets");
    }

    public static Path gpt2() {
        return dir().resolve("tokenizers/gpt2");
    }

    public static Path stories() {
        return dir().resolve("models/stories260K");
    }

    public static Path minilm() {
        return dir().resolve("models/all-MiniLM-L6-v2");
    }
}
