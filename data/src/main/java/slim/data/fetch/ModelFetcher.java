package slim.data.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import slim.nn.SlimException;

/**
 * Fetches what slim needs of a hub model repository: config.json, the tokenizer files and the
 * safetensors weights (one file, or the shards and their index), listed by the hub's model API.
 */
public final class ModelFetcher {
    private static final Set<String> SMALL_FILES = Set.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model",
            "model.safetensors.index.json");

    private final Hub hub;
    private final Downloader downloader;

    public ModelFetcher(Hub hub, Downloader downloader) {
        this.hub = hub;
        this.downloader = downloader;
    }

    /** The files of repo that slim downloads, small ones first. */
    public List<String> files(String repo) {
        JsonNode info;
        try {
            info = new ObjectMapper().readTree(downloader.text(hub.modelInfo(repo)));
        } catch (IOException e) {
            throw new SlimException(hub.modelInfo(repo) + ": not valid JSON: " + e.getMessage());
        }
        List<String> small = new ArrayList<>(), weights = new ArrayList<>();
        for (JsonNode sibling : info.path("siblings")) {
            String name = sibling.path("rfilename").asText();
            if (SMALL_FILES.contains(name)) small.add(name);
            else if (name.endsWith(".safetensors") && !name.contains("/")) weights.add(name);
        }
        if (!small.contains("config.json")) throw new SlimException(repo + ": the repository has no config.json");
        if (!small.contains("tokenizer.json")) throw new SlimException(repo + ": the repository has no tokenizer.json");
        if (weights.isEmpty()) throw new SlimException(repo + ": the repository has no safetensors weights (slim does not read .bin files)");
        small.sort(null);
        weights.sort(null);
        small.addAll(weights);
        return small;
    }

    /** Downloads repo's files into dir; files already complete there are kept. */
    public List<Path> fetch(String repo, Path dir) {
        if (!repo.matches("[\\w.-]+/[\\w.-]+")) throw new SlimException("'" + repo + "' is not a hub repository id (owner/name)");
        List<Path> out = new ArrayList<>();
        for (String file : files(repo)) out.add(downloader.fetch(hub.modelFile(repo, file), dir.resolve(file)));
        return out;
    }
}
