package slim.data.fetch;

import java.net.URI;

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
        return URI.create(endpoint + "/datasets/" + repo + "/resolve/" + revision.replace("/", "%2F") + "/" + path);
    }

    public URI modelFile(String repo, String path) {
        return URI.create(endpoint + "/" + repo + "/resolve/main/" + path);
    }

    /** The model's metadata, whose "siblings" list its files. */
    public URI modelInfo(String repo) {
        return URI.create(endpoint + "/api/models/" + repo);
    }
}
