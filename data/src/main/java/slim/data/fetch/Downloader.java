package slim.data.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import slim.nn.SlimException;

/**
 * Downloads a file onto {@code name.part} and renames it when every byte has come, so a partial
 * download never stands where a complete file should. An existing .part is resumed with an HTTP Range
 * request; a server that ignores the range sends the whole file again. A file already in place is
 * kept. HttpURLConnection rather than java.net.http because it has a read timeout: a server that
 * stalls mid-file ends the download (resumable) instead of hanging it.
 */
public final class Downloader {
    private final String token;
    private final Progress progress;
    private final int readTimeoutMillis;

    public Downloader(Progress progress) {
        this(progress, Duration.ofSeconds(60));
    }

    public Downloader(Progress progress, Duration readTimeout) {
        String t = System.getenv("HF_TOKEN");
        this.token = t == null || t.isBlank() ? null : t;
        this.progress = progress;
        this.readTimeoutMillis = Math.toIntExact(readTimeout.toMillis());
    }

    /** Thrown when the server has no such file (HTTP 404), so a caller can try another path. */
    public static final class NotFound extends SlimException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** Fetches uri to target unless target exists; returns target. */
    public Path fetch(URI uri, Path target) {
        if (Files.isRegularFile(target)) return target;
        Path part = target.resolveSibling(target.getFileName() + ".part");
        HttpURLConnection connection = null;
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
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
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
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
                throw new SlimException(uri + ": connection ended after " + done + " of " + total + " bytes; run again to resume from " + part);
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new SlimException(uri + ": download failed (" + e + "); run again to resume from " + part, e);
        } finally {
            if (connection != null) connection.disconnect();
        }
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
            throw new SlimException(uri + ": HTTP " + status + (status == 401 || status == 403 ? " (a gated repository needs HF_TOKEN)" : ""));
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
