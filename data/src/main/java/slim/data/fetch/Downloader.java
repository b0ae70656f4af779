package slim.data.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serial;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import slim.nn.SlimException;

/**
 * Downloads a file onto {@code name.part} and renames it when every byte has come, so a partial
 * download never stands where a complete file should. An existing .part is resumed with an HTTP Range
 * request; a server that ignores the range sends the whole file again. A file already in place is
 * kept. Where the hub publishes a file's size and hash ({@link Published}), the download is checked against
 * them before it is renamed, a file in place is kept only if it matches, and a .part is resumed only if it was
 * begun for the same commit (recorded beside it in {@code name.part.commit}). HttpURLConnection rather than
 * java.net.http because it has a read timeout: a server that stalls mid-file ends the download (resumable)
 * instead of hanging it.
 */
public final class Downloader {
    private final String token;
    private final Progress progress;
    private final int readTimeoutMillis;

    public Downloader(Progress progress) {
        this(progress, Duration.ofSeconds(60));
    }

    public Downloader(Progress progress, Duration readTimeout) {
        this(progress, readTimeout, HubEnvironment.system().token().orElse(null));
    }

    /** @param token sent as {@code Authorization: Bearer}; null for none */
    public Downloader(Progress progress, Duration readTimeout, String token) {
        this.token = token;
        this.progress = progress;
        this.readTimeoutMillis = Math.toIntExact(readTimeout.toMillis());
    }

    /** Thrown when the server has no such file (HTTP 404), so a caller can try another path. */
    public static final class NotFound extends SlimException {
        @Serial
        private static final long serialVersionUID = 1L;

        public NotFound(String message) {
            super(message);
        }
    }

    /** Fetches uri to target unless target exists; returns target. */
    public Path fetch(URI uri, Path target) {
        return fetch(uri, target, null, null);
    }

    /**
     * Fetches uri, a file of the given commit, to target, checked against what the hub publishes of it; a target
     * already in place is kept if it matches, else fetched again. Returns target.
     *
     * @param expected size and hash the download must have, or null to check nothing
     * @param commit   the commit the file belongs to: a .part begun for another is started over; null for none
     */
    public Path fetch(URI uri, Path target, Published expected, String commit) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Path partCommit = target.resolveSibling(target.getFileName() + ".part.commit");
        HttpURLConnection connection = null;
        try {
            if (Files.isRegularFile(target)) {
                if (expected == null || mismatch(target, expected) == null) return target;
                Files.delete(target); // another revision's file, or a damaged one
            }
            Files.createDirectories(target.toAbsolutePath().getParent());
            if (commit != null) {
                boolean sameCommit = Files.isRegularFile(partCommit)
                        && Files.readString(partCommit).equals(commit);
                if (!sameCommit
                        || expected != null
                                && Files.isRegularFile(part)
                                && Files.size(part) > expected.size()
                                && expected.size() != Published.UNKNOWN_SIZE) {
                    Files.deleteIfExists(part);
                }
                Files.writeString(partCommit, commit);
            }
            long have = Files.isRegularFile(part) ? Files.size(part) : 0;
            connection = open(uri, have);
            int status = connection.getResponseCode();
            if (status == 416 && have > 0) { // the .part is not a prefix the server can continue: start over
                connection.disconnect();
                Files.delete(part);
                have = 0;
                connection = open(uri, 0);
                status = connection.getResponseCode();
            }
            check(uri, status);
            boolean append = status == 206;
            long total = total(connection, append ? have : 0);
            long done = append ? have : 0;
            String name = target.getFileName().toString();
            try (InputStream in = connection.getInputStream();
                    OutputStream out = Files.newOutputStream(
                            part,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buffer = new byte[1 << 16];
                progress.update(name, done, total);
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    done += n;
                    progress.update(name, done, total);
                }
            }
            if (total >= 0 && done != total) {
                throw new SlimException(uri + ": connection ended after " + done + " of " + total
                        + " bytes; run again to resume from " + part);
            }
            String problem = expected == null ? null : mismatch(part, expected);
            if (problem != null) {
                Files.delete(part);
                Files.deleteIfExists(partCommit);
                throw new SlimException(
                        uri + ": the download " + problem + "; it was deleted, run again to fetch it anew");
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(partCommit);
            return target;
        } catch (IOException e) {
            throw new SlimException(uri + ": download failed (" + e + "); run again to resume from " + part, e);
        } finally {
            if (connection != null) connection.disconnect();
        }
    }

    /** How file differs from what the hub publishes ("has 10 bytes, not 12"), or null if it matches. */
    static String mismatch(Path file, Published expected) throws IOException {
        long size = Files.size(file);
        if (expected.size() != Published.UNKNOWN_SIZE && size != expected.size()) {
            return "has " + size + " bytes where the hub publishes " + expected.size();
        }
        if (expected.sha256() != null) {
            String sha256 = HexFormat.of().formatHex(digest(file, "SHA-256", new byte[0]));
            if (!sha256.equalsIgnoreCase(expected.sha256())) {
                return "has sha256 " + sha256 + " where the hub publishes " + expected.sha256();
            }
        } else if (expected.gitBlobId() != null) {
            byte[] header = ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII);
            String blobId = HexFormat.of().formatHex(digest(file, "SHA-1", header));
            if (!blobId.equalsIgnoreCase(expected.gitBlobId())) {
                return "has git blob id " + blobId + " where the hub publishes " + expected.gitBlobId();
            }
        }
        return null;
    }

    /** The digest of prefix followed by the file's bytes. */
    private static byte[] digest(Path file, String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has " + algorithm, e);
        }
        md.update(prefix);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) >= 0; ) md.update(buffer, 0, n);
        }
        return md.digest();
    }

    /** GETs a small text resource (the hub's JSON API). */
    public String text(URI uri) {
        HttpURLConnection connection = null;
        try {
            connection = open(uri, 0);
            check(uri, connection.getResponseCode());
            try (InputStream in = connection.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new SlimException(uri + ": request failed (" + e + ")", e);
        } finally {
            if (connection != null) connection.disconnect();
        }
    }

    private HttpURLConnection open(URI uri, long from) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setInstanceFollowRedirects(true);
        c.setConnectTimeout(30_000);
        c.setReadTimeout(readTimeoutMillis);
        if (from > 0) c.setRequestProperty("Range", "bytes=" + from + "-");
        if (token != null) c.setRequestProperty("Authorization", "Bearer " + token);
        return c;
    }

    private static void check(URI uri, int status) {
        if (status == 404) throw new NotFound(uri + ": not found (HTTP 404)");
        if (status != 200 && status != 206) {
            throw new SlimException(uri + ": HTTP " + status
                    + (status == 401 || status == 403
                            ? " (a gated or private repository needs a token: HF_TOKEN, or huggingface-cli login)"
                            : ""));
        }
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes \\d+-\\d+/(\\d+)");

    /** The whole file's size: Content-Range's total for a 206, else offset + Content-Length; -1 if unknown. */
    private static long total(HttpURLConnection c, long offset) {
        String range = c.getHeaderField("Content-Range");
        if (range != null) {
            Matcher m = CONTENT_RANGE.matcher(range);
            if (m.matches()) return Long.parseLong(m.group(1));
        }
        long length = c.getContentLengthLong();
        return length >= 0 ? offset + length : -1;
    }
}
