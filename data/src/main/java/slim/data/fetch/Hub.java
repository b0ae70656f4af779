package slim.data.fetch;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Addresses on a Hugging Face hub. The base URL is configurable (--hub, or HF_ENDPOINT as the
 * hub's own clients read it) so mirrors work and tests can point at a local server.
 */
public record Hub(String endpoint) {
    public static final String DEFAULT = "https://huggingface.co";

    public Hub {
        endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    }

    /** --hub when given, else $HF_ENDPOINT, else huggingface.co. */
    public static Hub of(String option) {
        if (option != null && !option.isBlank()) return new Hub(option);
        String env = System.getenv("HF_ENDPOINT");
        return new Hub(env != null && !env.isBlank() ? env : DEFAULT);
    }

    /** A file of a dataset repository at a revision ("main", or "refs/convert/parquet"). */
    public URI datasetFile(String repo, String revision, String path) {
        return URI.create(endpoint + "/datasets/" + repo + "/resolve/" + encode(revision) + "/" + path);
    }

    /** A file of a model repository at a revision: a branch, tag, commit or {@code refs/pr/N}. */
    public URI modelFile(String repo, String revision, String path) {
        return URI.create(endpoint + "/" + repo + "/resolve/" + encode(revision) + "/" + path);
    }

    /**
     * The model's metadata at a revision: its commit ("sha") and "siblings" (its files), each with its size and its
     * git blob id, and for LFS files the sha256 and size of the content ({@code blobs=true}).
     */
    public URI modelInfo(String repo, String revision) {
        return URI.create(endpoint + "/api/models/" + repo + "/revision/" + encode(revision) + "?blobs=true");
    }

    /** A revision as one path segment, as the hub's clients send it: {@code refs/pr/1} is {@code refs%2Fpr%2F1}. */
    private static String encode(String revision) {
        return URLEncoder.encode(revision, StandardCharsets.UTF_8);
    }
}
