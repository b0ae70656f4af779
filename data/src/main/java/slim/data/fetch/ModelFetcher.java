package slim.data.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import slim.nn.SlimException;

/**
 * Fetches what slim needs of a hub model repository at a revision (branch, tag, commit or {@code refs/pr/N}), as
 * the hub's model API lists it: config.json and the small config files, the tokenizer ({@code tokenizer.json}, else
 * GPT-2's {@code vocab.json} + {@code merges.txt}), and the weights (safetensors if the revision has them, else
 * PyTorch's {@code pytorch_model.bin} or its shards and index). Every file comes from the revision's resolved
 * commit and is checked against the size and hash the hub publishes.
 *
 * <p>Into a plain folder ({@link #fetch}), which records the repository, revision and commit in
 * {@code revision.json}; or into transformers' cache ({@link #fetchToCache}), so both tools share one copy.
 */
public final class ModelFetcher {
    /** The file a plain model folder records its source in. */
    public static final String RECORD = "revision.json";

    private static final Set<String> CONFIG_FILES = Set.of(
            "config.json",
            "generation_config.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "tokenizer.model");
    private static final Pattern BIN_WEIGHTS = Pattern.compile("pytorch_model(-\\d+-of-\\d+)?\\.bin");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Hub hub;
    private final Downloader downloader;

    public ModelFetcher(Hub hub, Downloader downloader) {
        this.hub = hub;
        this.downloader = downloader;
    }

    /** What a revision holds that slim downloads: its commit, and its files (small ones first) as published. */
    public record Listing(String repo, String revision, String commit, Map<String, Published> files) {}

    /** What was fetched: the folder holding the model, its files there, and the commit they are from. */
    public record Fetched(Path dir, String commit, List<Path> files) {}

    /** The files of repo at revision that slim downloads, small ones first. */
    public Listing list(String repo, String revision) {
        if (!repo.matches("[\\w.-]+/[\\w.-]+")) {
            throw new SlimException("'" + repo + "' is not a hub repository id (owner/name)");
        }
        JsonNode info;
        try {
            info = JSON.readTree(downloader.text(hub.modelInfo(repo, revision)));
        } catch (IOException e) {
            throw new SlimException(hub.modelInfo(repo, revision) + ": not valid JSON: " + e.getMessage());
        }
        Map<String, Published> published = new LinkedHashMap<>();
        for (JsonNode sibling : info.path("siblings")) {
            String name = sibling.path("rfilename").asText();
            if (name.contains("/")) continue; // other formats' folders (onnx/, ...)
            JsonNode lfs = sibling.path("lfs");
            long size = lfs.path("size").asLong(sibling.path("size").asLong(Published.UNKNOWN_SIZE));
            published.put(name, new Published(size, text(lfs.path("sha256")), text(sibling.path("blobId"))));
        }
        String at = repo + " at " + revision;
        if (!published.containsKey("config.json")) throw new SlimException(at + ": the repository has no config.json");
        List<String> small = new ArrayList<>(
                published.keySet().stream().filter(CONFIG_FILES::contains).toList());
        small.addAll(tokenizer(at, published.keySet()));
        List<String> weights = weights(at, published.keySet());
        small.sort(null);
        weights.sort(null);
        Map<String, Published> files = new LinkedHashMap<>();
        for (String name : small) files.put(name, published.get(name));
        for (String name : weights) files.put(name, published.get(name));
        String commit = text(info.path("sha"));
        return new Listing(repo, revision, commit != null ? commit : revision, files);
    }

    /** tokenizer.json, else GPT-2's two vocabulary files. */
    private static List<String> tokenizer(String at, Set<String> names) {
        if (names.contains("tokenizer.json")) return List.of("tokenizer.json");
        if (names.contains("vocab.json") && names.contains("merges.txt")) return List.of("vocab.json", "merges.txt");
        throw new SlimException(at + ": the repository has no tokenizer.json, nor vocab.json + merges.txt");
    }

    /** The safetensors weights if there are any, else PyTorch's. */
    private static List<String> weights(String at, Set<String> names) {
        List<String> safetensors = new ArrayList<>(
                names.stream().filter(n -> n.endsWith(".safetensors")).toList());
        if (!safetensors.isEmpty()) {
            if (names.contains("model.safetensors.index.json")) safetensors.add("model.safetensors.index.json");
            return safetensors;
        }
        List<String> bin = new ArrayList<>(
                names.stream().filter(n -> BIN_WEIGHTS.matcher(n).matches()).toList());
        if (names.contains("pytorch_model.bin.index.json")) bin.add("pytorch_model.bin.index.json");
        if (bin.isEmpty()) {
            throw new SlimException(at + ": the repository has neither safetensors nor pytorch_model.bin weights");
        }
        return bin;
    }

    /** Downloads repo's files at revision into dir (files already complete there and matching are kept). */
    public Fetched fetch(String repo, String revision, Path dir) {
        Listing listing = list(repo, revision);
        List<Path> out = new ArrayList<>();
        for (Map.Entry<String, Published> f : listing.files().entrySet()) {
            out.add(downloader.fetch(
                    hub.modelFile(repo, listing.commit(), f.getKey()),
                    dir.resolve(f.getKey()),
                    f.getValue(),
                    listing.commit()));
        }
        Map<String, String> record = new LinkedHashMap<>();
        record.put("repo", repo);
        record.put("revision", revision);
        record.put("commit", listing.commit());
        write(dir.resolve(RECORD), record);
        return new Fetched(dir, listing.commit(), out);
    }

    /**
     * Downloads repo's files at revision into transformers' cache under {@code cache}: each file's content once, as
     * {@code models--OWNER--NAME/blobs/<sha256 or git blob id>}, linked from {@code snapshots/<commit>/<file>}, and
     * the commit recorded in {@code refs/<revision>}. The snapshot folder is a model folder for both tools.
     */
    public Fetched fetchToCache(String repo, String revision, Path cache) {
        Listing listing = list(repo, revision);
        Path storage = cache.resolve("models--" + repo.replace("/", "--"));
        Path snapshot = storage.resolve("snapshots").resolve(listing.commit());
        List<Path> out = new ArrayList<>();
        try {
            Files.createDirectories(snapshot);
            for (Map.Entry<String, Published> f : listing.files().entrySet()) {
                Path link = snapshot.resolve(f.getKey());
                String etag = f.getValue().etag();
                if (etag == null) { // the hub did not say: the file itself, not shared
                    out.add(downloader.fetch(
                            hub.modelFile(repo, listing.commit(), f.getKey()), link, f.getValue(), listing.commit()));
                    continue;
                }
                Path blob = storage.resolve("blobs").resolve(etag);
                downloader.fetch(
                        hub.modelFile(repo, listing.commit(), f.getKey()), blob, f.getValue(), listing.commit());
                if (!Files.isSymbolicLink(link)) {
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, link.getParent().relativize(blob));
                }
                out.add(link);
            }
            if (!revision.equals(listing.commit())) {
                Path ref = storage.resolve("refs").resolve(revision);
                Files.createDirectories(ref.getParent());
                Files.writeString(ref, listing.commit());
            }
        } catch (IOException e) {
            throw new SlimException(snapshot + ": cannot fill transformers' cache: " + e.getMessage(), e);
        }
        return new Fetched(snapshot, listing.commit(), out);
    }

    private static void write(Path file, Map<String, String> record) {
        try {
            JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), record);
        } catch (IOException e) {
            throw new SlimException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n) {
        return n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
    }
}
