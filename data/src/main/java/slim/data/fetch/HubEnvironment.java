package slim.data.fetch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import slim.nn.SlimException;

/**
 * What the hub's own clients read from the environment, read the same way so slim and transformers share a login
 * and a cache: the access token ({@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}, else the file {@code token}
 * under {@code HF_HOME} that {@code huggingface-cli login} writes) and the cache of downloaded repositories
 * ({@code HF_HUB_CACHE}, else {@code HF_HOME/hub}); {@code HF_HOME} defaults to {@code ~/.cache/huggingface}.
 */
public record HubEnvironment(Map<String, String> env) {

    public static HubEnvironment system() {
        return new HubEnvironment(System.getenv());
    }

    /** The token sent as {@code Authorization: Bearer}, if there is one. */
    public Optional<String> token() {
        for (String name : new String[] {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
            String t = env.get(name);
            if (t != null && !t.isBlank()) return Optional.of(t.strip());
        }
        Path file = home().resolve("token");
        if (!Files.isRegularFile(file)) return Optional.empty();
        try {
            String t = Files.readString(file).strip();
            return t.isEmpty() ? Optional.empty() : Optional.of(t);
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read the hub token: " + e.getMessage(), e);
        }
    }

    /** transformers' cache of hub repositories (models--OWNER--NAME/{blobs,refs,snapshots}). */
    public Path cache() {
        String cache = env.get("HF_HUB_CACHE");
        return cache != null && !cache.isBlank() ? Path.of(cache) : home().resolve("hub");
    }

    private Path home() {
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) return Path.of(home);
        return Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".cache", "huggingface");
    }
}
