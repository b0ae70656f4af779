package slim.data.fetch;

/**
 * What the hub publishes about one file of a revision, for checking a download: its size, and the sha256 of its
 * content for LFS files (the weights) or its git blob id (the SHA-1 of "blob SIZE\0" + content) for the others;
 * null where the hub does not say.
 */
public record Published(long size, String sha256, String gitBlobId) {
    public static final long UNKNOWN_SIZE = -1;

    /** The name transformers' cache stores the content under: the sha256 for LFS files, else the git blob id. */
    public String etag() {
        return sha256 != null ? sha256 : gitBlobId;
    }
}
