package slim.data.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A hub on 127.0.0.1 for tests: serves bytes by raw path (HTTP Range included), and publishes model repositories
 * as the hub's API lists them (commit, sizes, git blob ids, LFS sha256 for the weights). No test reaches the
 * internet.
 */
public final class FakeHub implements AutoCloseable {
    /**
     * What `model fetch` takes of a repository like OPT's, which has no safetensors: the config, the generation
     * config, the tokenizer's vocabulary files and the PyTorch weights (not README.md or .gitattributes).
     */
    public static final List<String> OPT_FILES = List.of(
            "config.json",
            "generation_config.json",
            "merges.txt",
            "pytorch_model.bin",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.json");

    /** Response bodies by raw request path (revisions stay encoded: refs%2Fpr%2F1). */
    public final Map<String, byte[]> files = new ConcurrentHashMap<>();
    /** The Range headers received, in order. */
    public final List<String> ranges = Collections.synchronizedList(new ArrayList<>());
    /** Every request as "RAW-PATH AUTHORIZATION" (null when none was sent), in order. */
    public final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    /** When set, responses send only this many bytes of the body and then stall. */
    public volatile int cutAfter = -1;

    private final HttpServer server;

    private FakeHub(HttpServer server) {
        this.server = server;
    }

    public static FakeHub start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            FakeHub hub = new FakeHub(server);
            server.createContext("/", hub::serve);
            server.start();
            return hub;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    public Hub hub() {
        return Hub.of(url());
    }

    /**
     * Publishes files as a model repository at a revision: the API's listing of the commit with each file's size
     * and git blob id (for .bin and .safetensors files, an LFS pointer's, with the content's sha256 and size under
     * "lfs"), and each file under the commit's resolve path.
     */
    public void publish(String repo, String revision, String commit, Map<String, byte[]> content) {
        StringBuilder siblings = new StringBuilder();
        for (Map.Entry<String, byte[]> f : content.entrySet()) {
            byte[] b = f.getValue();
            boolean lfs = f.getKey().endsWith(".bin") || f.getKey().endsWith(".safetensors");
            if (!siblings.isEmpty()) siblings.append(',');
            siblings.append("{\"rfilename\":\"")
                    .append(f.getKey())
                    .append("\",\"size\":")
                    .append(lfs ? 134 : b.length)
                    .append(",\"blobId\":\"")
                    .append(lfs ? "0".repeat(40) : gitBlobId(b))
                    .append('"');
            if (lfs) {
                siblings.append(",\"lfs\":{\"sha256\":\"")
                        .append(sha256(b))
                        .append("\",\"size\":")
                        .append(b.length)
                        .append('}');
            }
            siblings.append('}');
            files.put("/" + repo + "/resolve/" + commit + "/" + f.getKey(), b);
        }
        String api = "{\"id\":\"" + repo + "\",\"sha\":\"" + commit + "\",\"siblings\":[" + siblings + "]}";
        String rev = URLEncoder.encode(revision, StandardCharsets.UTF_8);
        files.put("/api/models/" + repo + "/revision/" + rev, api.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256(byte[] b) {
        return digest("SHA-256", b);
    }

    /** git's object id of a file: SHA-1 of "blob SIZE\0" and the content. */
    public static String gitBlobId(byte[] b) {
        byte[] header = ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(header, header.length + b.length);
        System.arraycopy(b, 0, all, header.length, b.length);
        return digest("SHA-1", all);
    }

    private static String digest(String algorithm, byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        requests.add(exchange.getRequestURI().getRawPath() + " "
                + exchange.getRequestHeaders().getFirst("Authorization"));
        byte[] body = files.get(exchange.getRequestURI().getRawPath());
        if (body == null) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
        }
        int from = 0;
        String range = exchange.getRequestHeaders().getFirst("Range");
        if (range != null) {
            ranges.add(range);
            from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            exchange.getResponseHeaders()
                    .add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        }
        exchange.sendResponseHeaders(range != null ? 206 : 200, body.length - from);
        OutputStream out = exchange.getResponseBody();
        int end = cutAfter >= 0 ? Math.min(body.length, from + cutAfter) : body.length;
        out.write(body, from, end - from);
        out.flush();
        if (end == body.length) out.close(); // else stall mid-body: the client's read timeout ends it
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
