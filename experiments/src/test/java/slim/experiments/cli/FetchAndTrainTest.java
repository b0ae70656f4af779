package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.experiments.cli.Cli.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Tokenizer;
import slim.data.fetch.Downloader;
import slim.data.fetch.FakeHub;
import slim.data.fetch.ModelFetcher;
import slim.data.fetch.Progress;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;
import slim.nn.io.SafeTensorsWriter;
import slim.nn.io.TorchSave;

/**
 * facebook/opt-1.3b as the hub serves it, at tiny size, from a hub on 127.0.0.1: its main branch's real file list
 * (PyTorch's pytorch_model.bin, vocab.json + merges.txt, no safetensors, no tokenizer.json) and a pull-request
 * branch that adds model.safetensors. `slim model fetch` takes what each revision has, and a cell trains on the
 * fetched folder end to end.
 */
class FetchAndTrainTest {
    static final String REPO = "facebook/opt-1.3b";
    static final String MAIN_COMMIT = "3f5c25d0bc631cb57ac65913f76e22c2dfb61d62";
    static final String PR_COMMIT = "8c7b10754972749675d22364c25c428b29face51";
    /** OPT's vocabulary size, so the GPT-2-style tokenizer's ids (up to 50258) have embedding rows. */
    static final int VOCAB = 50272, POSITIONS = 512;

    @TempDir
    Path tmp;

    @Test
    void optFetchedFromEachRevisionTrainsACell() throws IOException {
        Map<String, byte[]> main = mainBranch();
        Map<String, byte[]> pr = new LinkedHashMap<>(main);
        pr.put("model.safetensors", safetensors());
        try (FakeHub fake = FakeHub.start()) {
            fake.publish(REPO, "main", MAIN_COMMIT, main);
            fake.publish(REPO, "refs/pr/1", PR_COMMIT, pr);

            Path dir = tmp.resolve("opt-1.3b");
            Cli.Run f = Cli.run("model", "fetch", REPO, "--hub", fake.url(), "--out", dir.toString());
            assertEquals(0, f.code(), f.out() + f.err());
            assertTrue(f.out().contains("commit " + MAIN_COMMIT), f.out());
            for (String name : FakeHub.OPT_FILES) {
                assertArrayEquals(main.get(name), Files.readAllBytes(dir.resolve(name)), name);
            }
            assertFalse(Files.exists(dir.resolve("README.md")) || Files.exists(dir.resolve(".gitattributes")));
            assertTrue(Files.readString(dir.resolve("revision.json")).contains(MAIN_COMMIT));

            Path prDir = tmp.resolve("opt-1.3b-pr");
            f = Cli.run(
                    "model", "fetch", REPO, "--hub", fake.url(), "--revision", "refs/pr/1", "--out", prDir.toString());
            assertEquals(0, f.code(), f.out() + f.err());
            assertTrue(Files.isRegularFile(prDir.resolve("model.safetensors")));
            assertFalse(Files.exists(prDir.resolve("pytorch_model.bin")), "safetensors when the revision has them");
            assertTrue(Files.readString(prDir.resolve("revision.json")).contains(PR_COMMIT));
            assertTrue(fake.requests.stream()
                    .anyMatch(r -> r.startsWith("/api/models/" + REPO + "/revision/refs%2Fpr%2F1 ")));
            try (Checkpoint bin = Checkpoint.open(dir);
                    Checkpoint st = Checkpoint.open(prDir)) {
                String name = "model.decoder.layers.0.fc1.weight";
                assertArrayEquals(read(st, name), read(bin, name), "both revisions hold the same weights");
            }

            // transformers' cache: its snapshot folder is a model folder like any other
            Path snapshot = new ModelFetcher(fake.hub(), new Downloader(Progress.NONE))
                    .fetchToCache(REPO, "main", tmp.resolve("hf-cache"))
                    .dir();
            assertEquals(tmp.resolve("hf-cache/models--facebook--opt-1.3b/snapshots/" + MAIN_COMMIT), snapshot);
            Cli.Run p = Cli.run(
                    "prune",
                    snapshot.toString(),
                    "--keep",
                    "1",
                    "--out",
                    tmp.resolve("pruned").toString());
            assertEquals(0, p.code(), p.out() + p.err());
            try (Tokenizer fromCache = Tokenizer.load(snapshot);
                    Tokenizer fromFolder = Tokenizer.load(dir)) {
                assertArrayEquals(
                        fromFolder.encodeInput("a charming journey"), fromCache.encodeInput("a charming journey"));
            }
        }

        Path results = tmp.resolve("results");
        Cli.Run t = Cli.run(tiny(
                "train --model %s -k 1 --task sst2 --setting lm-prompt --seed 0 --out %s",
                tmp.resolve("opt-1.3b"), results));
        assertEquals(0, t.code(), t.out() + t.err());
        assertTrue(t.out().contains("test accuracy"), t.out());
        assertTrue(Files.isRegularFile(results.resolve("opt-1.3b_k1_sst2_lm-prompt_s0.json")), results.toString());
    }

    private static float[] read(Checkpoint c, String name) {
        float[] out = new float[(int) c.info(name).elements()];
        c.read(name, c.info(name).shape(), out, 0, false);
        return out;
    }

    /**
     * The main branch's files: opt-tiny's weights widened to OPT's vocabulary and context, and OPT's tokenizer files.
     */
    private Map<String, byte[]> mainBranch() throws IOException {
        Path tokenizer = Shared.resolve("hub-layouts", "opt-style-tokenizer");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n".getBytes());
        files.put("README.md", "---\nlicense: other\n---\n# OPT, tiny\n".getBytes());
        files.put("config.json", config());
        files.put(
                "generation_config.json", "{\"bos_token_id\": 2, \"eos_token_id\": 2, \"pad_token_id\": 1}".getBytes());
        for (String name : List.of("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json")) {
            files.put(name, Files.readAllBytes(tokenizer.resolve(name)));
        }
        Path bin = tmp.resolve("pytorch_model.bin");
        TorchSave.write(bin, widened());
        files.put("pytorch_model.bin", Files.readAllBytes(bin));
        return files;
    }

    private static byte[] config() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(
                Shared.resolve("hub-layouts", "opt-tiny-bin", "config.json").toFile());
        c.put("vocab_size", VOCAB);
        c.put("max_position_embeddings", POSITIONS);
        return json.writeValueAsBytes(c);
    }

    /** opt-tiny's tensors, the token and position tables (and the tied head) repeated out to OPT's sizes. */
    private static Map<String, TorchSave.Tensor> widened() {
        Map<String, TorchSave.Tensor> out = new LinkedHashMap<>();
        try (Checkpoint c = Checkpoint.open(Shared.resolve("hub-layouts", "opt-tiny-bin"))) {
            for (String name : c.names()) {
                long[] s = c.info(name).shape();
                float[] v = read(c, name);
                int rows = name.endsWith("embed_tokens.weight") || name.equals("lm_head.weight")
                        ? VOCAB
                        : name.endsWith("embed_positions.weight") ? POSITIONS + 2 : -1;
                if (rows < 0) {
                    int[] shape = new int[s.length];
                    for (int d = 0; d < s.length; d++) shape[d] = (int) s[d];
                    out.put(name, new TorchSave.Tensor(shape, v));
                } else {
                    int width = (int) s[1];
                    float[] w = new float[rows * width];
                    for (int r = 0; r < rows; r++) System.arraycopy(v, (r % (int) s[0]) * width, w, r * width, width);
                    out.put(name, new TorchSave.Tensor(new int[] {rows, width}, w));
                }
            }
        }
        return out;
    }

    /** The conversion bot's model.safetensors: the same tensors. */
    private byte[] safetensors() throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (Map.Entry<String, TorchSave.Tensor> e : widened().entrySet()) {
            long[] shape = new long[e.getValue().shape().length];
            for (int d = 0; d < shape.length; d++) shape[d] = e.getValue().shape()[d];
            w.add(e.getKey(), shape, e.getValue().values(), 0, false);
        }
        Path file = tmp.resolve("model.safetensors");
        w.write(file);
        return Files.readAllBytes(file);
    }
}
