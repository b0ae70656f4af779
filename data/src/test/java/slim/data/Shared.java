package slim.data;

import java.nio.file.Path;

/** The read-only reference data the data tests read, found as the rest of slim finds it ({@link slim.nn.Shared}). */
public final class Shared {
    private Shared() {}

    public static Path dir() {
        return slim.nn.Shared.dir();
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
