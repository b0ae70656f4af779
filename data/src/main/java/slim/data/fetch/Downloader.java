package slim.data.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * request; a server that ignores the range sends the whole file again. A file already in place is kept.
 */
public final class Downloader {
    private final HttpClient http;
    private final String token;
    private final Progress progress;

    public Downloader(Progress progress) {
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
        String t = System.getenv("HF_TOKEN");
        this.token = t == null || t.isBlank() ? null : t;
        this.progress = progress;
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
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            long have = Files.isRegularFile(part) ? Files.size(part) : 0;
            HttpResponse<InputStream> response = send(uri, have);
            int status = response.statusCode();
            if (status == 416 && have > 0) { // the .part is not a prefix the server can continue: start over
                response.body().close();
                Files.delete(part);
                have = 0;
                response = send(uri, 0);
                status = response.statusCode();
            }
            if (status == 404) {
                response.body().close();
                throw new NotFound(uri + ": not found (HTTP 404)");
            }
            if (status != 200 && status != 206) {
                response.body().close();
                throw new SlimException(uri + ": HTTP " + status + (status == 401 || status == 403 ? " (a gated repository needs HF_TOKEN)" : ""));
            }
            boolean append = status == 206;
            long total = total(response, append ? have : 0);
            long done = append ? have : 0;
            String name = target.getFileName().toString();
            try (InputStream in = response.body();
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
            throw new SlimException(uri + ": download failed (" + e.getMessage() + "); run again to resume from " + part);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlimException(uri + ": download interrupted");
        }
    }

    private HttpResponse<InputStream> send(URI uri, long from) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
        if (from > 0) request.header("Range", "bytes=" + from + "-");
        if (token != null) request.header("Authorization", "Bearer " + token);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** GETs a small text resource (the hub's JSON API). */
    public String text(URI uri) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
            if (token != null) request.header("Authorization", "Bearer " + token);
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 404) throw new NotFound(uri + ": not found (HTTP 404)");
            if (response.statusCode() != 200) throw new SlimException(uri + ": HTTP " + response.statusCode());
            return response.body();
        } catch (IOException e) {
            throw new SlimException(uri + ": request failed (" + e.getMessage() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlimException(uri + ": request interrupted");
        }
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes \\d+-\\d+/(\\d+)");

    /** The whole file's size: Content-Range's total for a 206, else offset + Content-Length; -1 if unknown. */
    private static long total(HttpResponse<?> response, long offset) {
        var range = response.headers().firstValue("Content-Range");
        if (range.isPresent()) {
            Matcher m = CONTENT_RANGE.matcher(range.get());
            if (m.matches()) return Long.parseLong(m.group(1));
        }
        var length = response.headers().firstValueAsLong("Content-Length");
        return length.isPresent() ? offset + length.getAsLong() : -1;
    }
}
