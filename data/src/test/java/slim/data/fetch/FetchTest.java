package slim.data.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Dataset;
import slim.data.Datasets;
import slim.data.Example;
import slim.data.Task;
import slim.nn.SlimException;

/** Fetching against a local server that serves fixture files the test makes: no test reaches the internet. */
class FetchTest {
    @TempDir
    Path tmp;

    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final List<String> ranges = new ArrayList<>();
    /** When set, responses send only this many bytes of the body and then stall. */
    volatile int cutAfter = -1;
    Hub hub;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::serve);
        server.start();
        hub = Hub.of("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void serve(HttpExchange exchange) throws IOException {
        byte[] body = files.get(exchange.getRequestURI().getRawPath());
        if (body == null) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
        }
        int from = 0;
        String range = exchange.getRequestHeaders().getFirst("Range");
        if (range != null) {
            synchronized (ranges) {
                ranges.add(range);
            }
            from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            exchange.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        }
        exchange.sendResponseHeaders(range != null ? 206 : 200, body.length - from);
        OutputStream out = exchange.getResponseBody();
        int end = cutAfter >= 0 ? Math.min(body.length, from + cutAfter) : body.length;
        out.write(body, from, end - from);
        out.flush();
        if (end == body.length) out.close(); // else stall mid-body: the client's read timeout ends it
    }

    private static byte[] parquet(String text, String label, TinyParquet.Row... rows) throws IOException {
        return TinyParquet.write(text, label, List.of(rows));
    }

    private void serveDatasets() throws IOException {
        files.put("/datasets/fancyzhx/ag_news/resolve/main/data/train-00000-of-00001.parquet", parquet("text", "label",
                new TinyParquet.Row("Stocks rise", 2), new TinyParquet.Row("Team wins", 1), new TinyParquet.Row("Chip made", 3)));
        files.put("/datasets/fancyzhx/ag_news/resolve/main/data/test-00000-of-00001.parquet", parquet("text", "label",
                new TinyParquet.Row("Peace talks", 0)));
        files.put("/datasets/nyu-mll/glue/resolve/main/sst2/train-00000-of-00001.parquet", parquet("sentence", "label",
                new TinyParquet.Row("a charming , often affecting journey . ", 1), new TinyParquet.Row("bleak", 0)));
        files.put("/datasets/nyu-mll/glue/resolve/main/sst2/validation-00000-of-00001.parquet", parquet("sentence", "label",
                new TinyParquet.Row("it 's a wonderful ride", 1)));
        // TREC and emo only on the converter's branch: the main-branch path must fall through to it
        files.put("/datasets/CogComp/trec/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet", parquet("text", "coarse_label",
                new TinyParquet.Row("What is the full form of .com ?", 0), new TinyParquet.Row("Who killed Gandhi ?", 3)));
        files.put("/datasets/CogComp/trec/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet", parquet("text", "coarse_label",
                new TinyParquet.Row("How far is it from Denver to Aspen ?", 5)));
        files.put("/datasets/SemEvalWorkshop/emo/resolve/refs%2Fconvert%2Fparquet/emo2019/train/0000.parquet", parquet("text", "label",
                new TinyParquet.Row("don't worry i'm girl hmm how do i know if you are what's ur name", 0), new TinyParquet.Row("yay so glad", 1)));
        files.put("/datasets/SemEvalWorkshop/emo/resolve/refs%2Fconvert%2Fparquet/emo2019/test/0000.parquet", parquet("text", "label",
                new TinyParquet.Row("you are so mean", 3)));
    }

    @Test
    void datasetsArriveInTheNormalizedLayout() throws IOException {
        serveDatasets();
        List<String> progress = new ArrayList<>();
        DatasetFetcher fetcher = new DatasetFetcher(hub, new Downloader((name, done, total) -> progress.add(name + " " + done + "/" + total)));
        Path data = tmp.resolve("data");
        for (Task t : Task.values()) fetcher.fetch(t, data);

        Dataset ag = Datasets.load(data, Task.AGNEWS);
        assertEquals(List.of(new Example("Stocks rise", 2, 0), new Example("Team wins", 1, 1), new Example("Chip made", 3, 2)), ag.train());
        assertEquals("label,text\r\nBusiness,Stocks rise\r\nSports,Team wins\r\nSci/Tech,Chip made\r\n",
                Files.readString(data.resolve("agnews/train.csv")));
        assertEquals(new Example("a charming , often affecting journey .", 1, 0), Datasets.load(data, Task.SST2).train().getFirst());
        Dataset trec = Datasets.load(data, Task.TREC);
        assertEquals(List.of(0, 3), trec.train().stream().map(Example::label).toList());
        assertEquals(5, trec.test().getFirst().label());
        assertEquals(3, Datasets.load(data, Task.EMOCONTEXT).test().getFirst().label());
        assertTrue(Files.isRegularFile(data.resolve("trec/raw/train.parquet")));
        assertTrue(progress.stream().anyMatch(p -> p.startsWith("train.parquet ") && p.matches(".* (\\d+)/\\1")), progress.toString());
        try (var listing = Files.walk(data)) {
            assertTrue(listing.noneMatch(p -> p.toString().endsWith(".part")));
        }
    }

    @Test
    void badParquetContentFailsClearly() throws IOException {
        files.put("/datasets/fancyzhx/ag_news/resolve/main/data/train-00000-of-00001.parquet", parquet("text", "label", new TinyParquet.Row("x", 7)));
        files.put("/datasets/fancyzhx/ag_news/resolve/main/data/test-00000-of-00001.parquet", parquet("text", "label", new TinyParquet.Row("x", 0)));
        DatasetFetcher fetcher = new DatasetFetcher(hub, new Downloader(Progress.NONE));
        String m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.AGNEWS, tmp)).getMessage();
        assertTrue(m.contains("train.parquet: row 0: label index 7 is not a agnews class"), m);
        files.put("/datasets/nyu-mll/glue/resolve/main/sst2/train-00000-of-00001.parquet", parquet("text", "label", new TinyParquet.Row("x", 0)));
        m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.SST2, tmp)).getMessage();
        assertTrue(m.contains("no column 'sentence'"), m);
        m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.TREC, tmp)).getMessage();
        assertTrue(m.contains("CogComp/trec: the hub has none of") && m.contains("refs%2Fconvert%2Fparquet/default/train/0000.parquet"), m);
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    @Test
    void interruptedDownloadLeavesOnlyAPartThatResumes() throws IOException {
        byte[] weights = bytes(300_000);
        files.put("/org/m/resolve/main/model.safetensors", weights);
        Path target = tmp.resolve("model.safetensors");
        Downloader downloader = new Downloader(Progress.NONE, java.time.Duration.ofMillis(500));
        cutAfter = 100_000;
        String m = assertThrows(SlimException.class, () -> downloader.fetch(hub.modelFile("org/m", "model.safetensors"), target)).getMessage();
        assertTrue(m.contains("run again to resume"), m);
        assertFalse(Files.exists(target), "a partial download must not stand where the complete file goes");
        Path part = tmp.resolve("model.safetensors.part");
        long have = Files.size(part);
        assertTrue(have > 0 && have < weights.length, "part has " + have);

        cutAfter = -1;
        downloader.fetch(hub.modelFile("org/m", "model.safetensors"), target);
        assertArrayEquals(weights, Files.readAllBytes(target));
        assertEquals(List.of("bytes=" + have + "-"), ranges);
        assertFalse(Files.exists(part));

        // a complete file is kept as it is, whatever the server now says
        files.put("/org/m/resolve/main/model.safetensors", bytes(10));
        downloader.fetch(hub.modelFile("org/m", "model.safetensors"), target);
        assertArrayEquals(weights, Files.readAllBytes(target));
    }

    @Test
    void modelFetchTakesConfigTokenizerAndSafetensorsShards() throws IOException {
        String siblings = "{\"id\":\"org/m\",\"siblings\":[" + String.join(",", Arrays.stream(new String[] {
                "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "README.md", "pytorch_model.bin",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "onnx/model.safetensors"})
                .map(n -> "{\"rfilename\":\"" + n + "\"}").toList()) + "]}";
        files.put("/api/models/org/m", siblings.getBytes(StandardCharsets.UTF_8));
        List<String> expected = List.of("config.json", "merges.txt", "model.safetensors.index.json", "tokenizer.json",
                "tokenizer_config.json", "vocab.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
        for (int i = 0; i < expected.size(); i++) files.put("/org/m/resolve/main/" + expected.get(i), bytes(1000 + i));
        Path dir = tmp.resolve("m");
        List<Path> got = new ModelFetcher(hub, new Downloader(Progress.NONE)).fetch("org/m", dir);
        assertEquals(expected.stream().map(dir::resolve).toList(), got);
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(bytes(1000 + i), Files.readAllBytes(dir.resolve(expected.get(i))));
        assertFalse(Files.exists(dir.resolve("pytorch_model.bin")));

        files.put("/api/models/org/bin", "{\"siblings\":[{\"rfilename\":\"config.json\"},{\"rfilename\":\"tokenizer.json\"},{\"rfilename\":\"pytorch_model.bin\"}]}".getBytes(StandardCharsets.UTF_8));
        String m = assertThrows(SlimException.class, () -> new ModelFetcher(hub, new Downloader(Progress.NONE)).fetch("org/bin", dir)).getMessage();
        assertTrue(m.contains("no safetensors weights"), m);
        m = assertThrows(SlimException.class, () -> new ModelFetcher(hub, new Downloader(Progress.NONE)).fetch("org/absent", dir)).getMessage();
        assertTrue(m.contains("HTTP 404"), m);
    }
}
