package slim.data.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    FakeHub fake;
    Map<String, byte[]> files;
    List<String> ranges, requests;
    Hub hub;

    @BeforeEach
    void start() {
        fake = FakeHub.start();
        files = fake.files;
        ranges = fake.ranges;
        requests = fake.requests;
        hub = fake.hub();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private static byte[] parquet(String text, String label, TinyParquet.Row... rows) throws IOException {
        return TinyParquet.write(text, label, List.of(rows));
    }

    private void serveDatasets() throws IOException {
        files.put(
                "/datasets/fancyzhx/ag_news/resolve/main/data/train-00000-of-00001.parquet",
                parquet(
                        "text",
                        "label",
                        new TinyParquet.Row("Stocks rise", 2),
                        new TinyParquet.Row("Team wins", 1),
                        new TinyParquet.Row("Chip made", 3)));
        files.put(
                "/datasets/fancyzhx/ag_news/resolve/main/data/test-00000-of-00001.parquet",
                parquet("text", "label", new TinyParquet.Row("Peace talks", 0)));
        files.put(
                "/datasets/nyu-mll/glue/resolve/main/sst2/train-00000-of-00001.parquet",
                parquet(
                        "sentence",
                        "label",
                        new TinyParquet.Row("a charming , often affecting journey . ", 1),
                        new TinyParquet.Row("bleak", 0)));
        files.put(
                "/datasets/nyu-mll/glue/resolve/main/sst2/validation-00000-of-00001.parquet",
                parquet("sentence", "label", new TinyParquet.Row("it 's a wonderful ride", 1)));
        // TREC and emo only on the converter's branch: the main-branch path must fall through to it
        files.put(
                "/datasets/CogComp/trec/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet",
                parquet(
                        "text",
                        "coarse_label",
                        new TinyParquet.Row("What is the full form of .com ?", 0),
                        new TinyParquet.Row("Who killed Gandhi ?", 3)));
        files.put(
                "/datasets/CogComp/trec/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet",
                parquet("text", "coarse_label", new TinyParquet.Row("How far is it from Denver to Aspen ?", 5)));
        files.put(
                "/datasets/SemEvalWorkshop/emo/resolve/refs%2Fconvert%2Fparquet/emo2019/train/0000.parquet",
                parquet(
                        "text",
                        "label",
                        new TinyParquet.Row("don't worry i'm girl hmm how do i know if you are what's ur name", 0),
                        new TinyParquet.Row("yay so glad", 1)));
        files.put(
                "/datasets/SemEvalWorkshop/emo/resolve/refs%2Fconvert%2Fparquet/emo2019/test/0000.parquet",
                parquet("text", "label", new TinyParquet.Row("you are so mean", 3)));
    }

    @Test
    void datasetsArriveInTheNormalizedLayout() throws IOException {
        serveDatasets();
        List<String> progress = new ArrayList<>();
        DatasetFetcher fetcher = new DatasetFetcher(
                hub, new Downloader((name, done, total) -> progress.add(name + " " + done + "/" + total)));
        Path data = tmp.resolve("data");
        for (Task t : Task.values()) fetcher.fetch(t, data);

        Dataset ag = Datasets.load(data, Task.AGNEWS);
        assertEquals(
                List.of(
                        new Example("Stocks rise", 2, 0),
                        new Example("Team wins", 1, 1),
                        new Example("Chip made", 3, 2)),
                ag.train());
        assertEquals(
                "label,text\r\nBusiness,Stocks rise\r\nSports,Team wins\r\nSci/Tech,Chip made\r\n",
                Files.readString(data.resolve("agnews/train.csv")));
        assertEquals(
                new Example("a charming , often affecting journey .", 1, 0),
                Datasets.load(data, Task.SST2).train().getFirst());
        Dataset trec = Datasets.load(data, Task.TREC);
        assertEquals(List.of(0, 3), trec.train().stream().map(Example::label).toList());
        assertEquals(5, trec.test().getFirst().label());
        assertEquals(3, Datasets.load(data, Task.EMOCONTEXT).test().getFirst().label());
        assertTrue(Files.isRegularFile(data.resolve("trec/raw/train.parquet")));
        assertTrue(
                progress.stream().anyMatch(p -> p.startsWith("train.parquet ") && p.matches(".* (\\d+)/\\1")),
                progress.toString());
        try (var listing = Files.walk(data)) {
            assertTrue(listing.noneMatch(p -> p.toString().endsWith(".part")));
        }
    }

    @Test
    void badParquetContentFailsClearly() throws IOException {
        files.put(
                "/datasets/fancyzhx/ag_news/resolve/main/data/train-00000-of-00001.parquet",
                parquet("text", "label", new TinyParquet.Row("x", 7)));
        files.put(
                "/datasets/fancyzhx/ag_news/resolve/main/data/test-00000-of-00001.parquet",
                parquet("text", "label", new TinyParquet.Row("x", 0)));
        DatasetFetcher fetcher = new DatasetFetcher(hub, new Downloader(Progress.NONE));
        String m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.AGNEWS, tmp))
                .getMessage();
        assertTrue(m.contains("train.parquet: row 0: label index 7 is not a agnews class"), m);
        files.put(
                "/datasets/nyu-mll/glue/resolve/main/sst2/train-00000-of-00001.parquet",
                parquet("text", "label", new TinyParquet.Row("x", 0)));
        m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.SST2, tmp))
                .getMessage();
        assertTrue(m.contains("no column 'sentence'"), m);
        m = assertThrows(SlimException.class, () -> fetcher.fetch(Task.TREC, tmp))
                .getMessage();
        assertTrue(
                m.contains("CogComp/trec: the hub has none of")
                        && m.contains("refs%2Fconvert%2Fparquet/default/train/0000.parquet"),
                m);
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
        Downloader downloader = new Downloader(Progress.NONE, Duration.ofMillis(500));
        fake.cutAfter = 100_000;
        String m = assertThrows(
                        SlimException.class,
                        () -> downloader.fetch(hub.modelFile("org/m", "main", "model.safetensors"), target))
                .getMessage();
        assertTrue(m.contains("run again to resume"), m);
        assertFalse(Files.exists(target), "a partial download must not stand where the complete file goes");
        Path part = tmp.resolve("model.safetensors.part");
        long have = Files.size(part);
        assertTrue(have > 0 && have < weights.length, "part has " + have);

        fake.cutAfter = -1;
        downloader.fetch(hub.modelFile("org/m", "main", "model.safetensors"), target);
        assertArrayEquals(weights, Files.readAllBytes(target));
        assertEquals(List.of("bytes=" + have + "-"), ranges);
        assertFalse(Files.exists(part));

        // a complete file is kept as it is, whatever the server now says
        files.put("/org/m/resolve/main/model.safetensors", bytes(10));
        downloader.fetch(hub.modelFile("org/m", "main", "model.safetensors"), target);
        assertArrayEquals(weights, Files.readAllBytes(target));
    }

    private static Map<String, byte[]> repoFiles(String... names) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) m.put(names[i], bytes(1000 + 37 * i));
        return m;
    }

    private ModelFetcher fetcher(String token) {
        return new ModelFetcher(hub, new Downloader(Progress.NONE, Duration.ofSeconds(5), token));
    }

    @Test
    void modelFetchTakesSafetensorsAndTokenizerJsonWhenTheRevisionHasThem() throws IOException {
        Map<String, byte[]> repo = repoFiles(
                "config.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "vocab.json",
                "merges.txt",
                "README.md",
                "pytorch_model.bin",
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
                "model.safetensors.index.json",
                ".gitattributes");
        fake.publish("org/m", "main", "c0ffee", repo);
        Path dir = tmp.resolve("m");
        ModelFetcher.Fetched got = fetcher(null).fetch("org/m", "main", dir);
        List<String> expected = List.of(
                "config.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
                "model.safetensors.index.json");
        List<String> names = got.files().stream()
                .map(p -> p.getFileName().toString())
                .sorted()
                .toList();
        assertEquals(expected.stream().sorted().toList(), names);
        for (String f : expected) assertArrayEquals(repo.get(f), Files.readAllBytes(dir.resolve(f)), f);
        assertEquals("c0ffee", got.commit());
        assertTrue(Files.readString(dir.resolve(ModelFetcher.RECORD)).contains("\"commit\" : \"c0ffee\""));
        assertFalse(Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("vocab.json")));
    }

    @Test
    void modelFetchTakesPyTorchWeightsAndVocabFilesOtherwise() throws IOException {
        List<String> names = new ArrayList<>(FakeHub.OPT_FILES);
        names.addAll(List.of("README.md", ".gitattributes"));
        Map<String, byte[]> repo = repoFiles(names.toArray(String[]::new));
        fake.publish("facebook/opt-1.3b", "main", "abc123", repo);
        Path dir = tmp.resolve("opt");
        fetcher(null).fetch("facebook/opt-1.3b", "main", dir);
        for (String f : FakeHub.OPT_FILES) {
            assertArrayEquals(repo.get(f), Files.readAllBytes(dir.resolve(f)), f);
        }
        assertFalse(Files.exists(dir.resolve("README.md")));

        fake.publish("org/none", "main", "1", repoFiles("config.json", "tokenizer.json", "flax_model.msgpack"));
        String m = assertThrows(SlimException.class, () -> fetcher(null).fetch("org/none", "main", dir))
                .getMessage();
        assertTrue(m.contains("org/none at main: the repository has neither safetensors nor pytorch_model.bin"), m);
        m = assertThrows(SlimException.class, () -> fetcher(null).fetch("org/absent", "main", dir))
                .getMessage();
        assertTrue(m.contains("HTTP 404"), m);
    }

    @Test
    void revisionsAreEncodedAsTheHubDoesAndTheTokenIsSent() throws IOException {
        fake.publish("org/m", "refs/pr/7", "feed42", repoFiles("config.json", "tokenizer.json", "model.safetensors"));
        Files.writeString(tmp.resolve("token"), "hf_fromfile\n");
        String token =
                new HubEnvironment(Map.of("HF_HOME", tmp.toString())).token().orElseThrow();
        ModelFetcher.Fetched got = fetcher(token).fetch("org/m", "refs/pr/7", tmp.resolve("pr"));
        assertEquals("feed42", got.commit());
        assertTrue(
                requests.contains("/api/models/org/m/revision/refs%2Fpr%2F7 Bearer hf_fromfile"), requests.toString());
        assertTrue(
                requests.contains("/org/m/resolve/feed42/model.safetensors Bearer hf_fromfile"), requests.toString());
    }

    @Test
    void tokensAndCacheAreFoundAsTheHubsClientsFindThem() throws IOException {
        Files.writeString(tmp.resolve("token"), "from-file");
        String home = tmp.toString();
        assertEquals(
                "a",
                new HubEnvironment(Map.of("HF_TOKEN", "a", "HUGGING_FACE_HUB_TOKEN", "b", "HF_HOME", home))
                        .token()
                        .orElseThrow());
        assertEquals(
                "b",
                new HubEnvironment(Map.of("HUGGING_FACE_HUB_TOKEN", "b", "HF_HOME", home))
                        .token()
                        .orElseThrow());
        assertEquals(
                "from-file", new HubEnvironment(Map.of("HF_HOME", home)).token().orElseThrow());
        assertTrue(new HubEnvironment(Map.of("HOME", tmp.resolve("nobody").toString()))
                .token()
                .isEmpty());
        assertEquals(tmp.resolve("hub"), new HubEnvironment(Map.of("HF_HOME", home)).cache());
        assertEquals(Path.of("/c"), new HubEnvironment(Map.of("HF_HOME", home, "HF_HUB_CACHE", "/c")).cache());
        assertEquals(Path.of("/h/.cache/huggingface/hub"), new HubEnvironment(Map.of("HOME", "/h")).cache());
    }

    @Test
    void aDownloadThatDiffersFromWhatTheHubPublishesIsRefused() throws IOException {
        Map<String, byte[]> repo = repoFiles("config.json", "tokenizer.json", "model.safetensors");
        fake.publish("org/m", "main", "c1", repo);
        files.put("/org/m/resolve/c1/model.safetensors", bytes(1000 + 37 * 2 + 1)); // one byte more than published
        Path dir = tmp.resolve("m");
        String m = assertThrows(SlimException.class, () -> fetcher(null).fetch("org/m", "main", dir))
                .getMessage();
        assertTrue(m.contains("model.safetensors") && m.contains("bytes where the hub publishes"), m);
        assertFalse(
                Files.exists(dir.resolve("model.safetensors")) || Files.exists(dir.resolve("model.safetensors.part")));
        byte[] tampered = repo.get("model.safetensors").clone();
        tampered[5] ^= 1;
        files.put("/org/m/resolve/c1/model.safetensors", tampered);
        m = assertThrows(SlimException.class, () -> fetcher(null).fetch("org/m", "main", dir))
                .getMessage();
        assertTrue(m.contains("sha256"), m);
        files.put("/org/m/resolve/c1/model.safetensors", repo.get("model.safetensors"));
        fetcher(null).fetch("org/m", "main", dir);
        assertArrayEquals(repo.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
    }

    @Test
    void aPartFromAnotherRevisionStartsOverAndOldFilesAreReplaced() throws IOException {
        Map<String, byte[]> repo = repoFiles("config.json", "tokenizer.json", "model.safetensors");
        fake.publish("org/m", "v2", "new", repo);
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.write(dir.resolve("model.safetensors.part"), bytes(500)); // begun for commit "old"
        Files.writeString(dir.resolve("model.safetensors.part.commit"), "old");
        Files.writeString(dir.resolve("config.json"), "{\"from\": \"old\"}"); // complete, but another revision's
        fetcher(null).fetch("org/m", "v2", dir);
        for (String f : repo.keySet()) assertArrayEquals(repo.get(f), Files.readAllBytes(dir.resolve(f)), f);
        assertEquals(List.of(), ranges, "nothing resumed from the other revision's part");
        assertFalse(Files.exists(dir.resolve("model.safetensors.part.commit")));
    }

    @Test
    void fetchFillsTransformersCacheOnce() throws IOException {
        Map<String, byte[]> repo = repoFiles("config.json", "tokenizer.json", "model.safetensors");
        fake.publish("org/m", "main", "0123abc", repo);
        Path cache = tmp.resolve("hub");
        ModelFetcher.Fetched got = fetcher(null).fetchToCache("org/m", "main", cache);
        Path storage = cache.resolve("models--org--m");
        assertEquals(storage.resolve("snapshots/0123abc"), got.dir());
        assertEquals("0123abc", Files.readString(storage.resolve("refs/main")));
        Path link = got.dir().resolve("model.safetensors");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(
                Path.of("../../blobs/" + FakeHub.sha256(repo.get("model.safetensors"))), Files.readSymbolicLink(link));
        assertEquals(
                Path.of("../../blobs/" + FakeHub.gitBlobId(repo.get("config.json"))),
                Files.readSymbolicLink(got.dir().resolve("config.json")));
        for (String f : repo.keySet())
            assertArrayEquals(repo.get(f), Files.readAllBytes(got.dir().resolve(f)), f);
        int before = requests.size();
        fetcher(null).fetchToCache("org/m", "main", cache);
        assertEquals(1, requests.size() - before, "only the listing is asked for again: " + requests);
    }
}
