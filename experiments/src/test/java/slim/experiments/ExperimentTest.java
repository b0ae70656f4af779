package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Datasets;
import slim.data.Example;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.model.Pooling;

/** A real cell end to end on the built-in stories260K and the shared TREC data, on a tiny protocol. */
class ExperimentTest {
    static final Path STORIES = Shared.resolve("models", "stories260K");
    static final Path MINILM = Shared.resolve("models", "all-MiniLM-L6-v2");
    static final Path DATA = Shared.resolve("datasets");
    static final Protocol TINY = Protocol.builder()
            .examples(8, 6, 10)
            .epochs(2)
            .patience(2)
            .maxPromptTokens(256)
            .build();

    @TempDir
    Path tmp;

    @Test
    void aCellsResultFileHoldsItsConfigurationSplitCurveAndCost() throws Exception {
        Cell cell = Cell.of(STORIES, 2, Task.TREC, Setting.LM_PROMPT, 42, null);
        Path saved = tmp.resolve("model");
        Result r = new Experiment(DATA, TINY).run(cell, Trainer.Listener.NONE, saved, x -> {});
        Path file = ResultFiles.file(tmp, cell);
        ResultFiles.write(file, r);

        JsonNode j = ResultFiles.JSON.readTree(file.toFile());
        assertEquals("stories260K", j.get("cell").get("model_name").asText());
        assertEquals("llama", j.get("cell").get("model_type").asText());
        assertEquals(5, j.get("cell").get("model_layers").asInt());
        assertEquals(2, j.get("cell").get("keep").asInt());
        assertEquals("trec", j.get("cell").get("task").asText());
        assertEquals("lm-prompt", j.get("cell").get("setting").asText());
        assertEquals(42, j.get("cell").get("seed").asInt());
        assertEquals("ok", j.get("status").asText());
        assertEquals(5e-5, j.get("protocol").get("lr").asDouble(), 1e-9);
        assertEquals(8, j.get("protocol").get("train_examples").asInt());
        assertEquals(6, j.get("prompts").get("split").get("demonstrations").size(), "one demonstration per TREC class");
        assertEquals(8, j.get("prompts").get("split").get("train").size());
        assertEquals(6, j.get("prompts").get("split").get("val").size());
        assertEquals(10, j.get("prompts").get("split").get("test").size());
        assertEquals(6, j.get("prompts").get("label_tokens").size());
        assertTrue(j.get("prompts").get("longest_prompt").asInt() <= 256);
        assertTrue(j.get("prompts").get("prefix_tokens").asInt() > 16, "the demonstrations were cached");
        assertTrue(j.get("protocol").get("prefix_cache").asBoolean());

        // The curves: accuracies are counts over 6 val and 10 test examples; the kept epoch is the first best.
        JsonNode curves = j.get("curves");
        assertEquals(2, curves.get("val_accuracy").size(), "two epochs, patience 2: no early stop");
        assertFalse(curves.get("stopped_early").asBoolean());
        double best = -1;
        int bestEpoch = 0;
        for (int e = 0; e < 2; e++) {
            double v = curves.get("val_accuracy").get(e).asDouble();
            assertEquals(Math.rint(v * 6) / 6, v, 0.0, "val accuracy " + v + " is right answers out of 6");
            if (v > best) {
                best = v;
                bestEpoch = e + 1;
            }
        }
        assertEquals(bestEpoch, curves.get("best_epoch").asInt());
        assertEquals(best, curves.get("best_val_accuracy").asDouble(), 0.0);
        List<Example> test = testExamples(j.get("prompts").get("split").get("test"));
        assertEquals(majority(test), curves.get("majority_accuracy").asDouble(), 0.0);
        // The saved model holds the kept (best-epoch) weights: its answers on the test rows give the test accuracy.
        assertEquals(accuracy(saved, test), curves.get("test_accuracy").asDouble(), 0.0);

        // Embeddings 512 x 64 (tied to the LM head), two kept layers of 45,440 (attention 4096 + 2 x 2048 + 4096
        // with 8 heads and 4 kv heads of 8, SwiGLU 3 x 64 x 172, two norms of 64), and the final norm.
        assertEquals(
                512 * 64 + 2 * 45_440 + 64, j.get("costs").get("params_kept").asLong());
        assertEquals(0, j.get("costs").get("head_params").asLong());
        assertTrue(j.get("costs").get("wall_seconds").asDouble() > 0);
        assertTrue(j.get("costs").get("tokens_per_second").asDouble() > 0);
        assertTrue(j.get("costs").get("peak_heap_bytes").asLong() > 0);

        Result back = ResultFiles.read(file);
        assertEquals(r.curves().testAccuracy(), back.curves().testAccuracy());
        assertArrayEquals(
                r.prompts().split().get("train"), back.prompts().split().get("train"));
        assertEquals(TINY, back.protocol());
        assertFalse(
                Files.list(tmp).anyMatch(f -> f.getFileName().toString().startsWith(".")), "no temporary file left");
    }

    /** The TREC test examples at these 0-based rows of the test file. */
    private static List<Example> testExamples(JsonNode rows) {
        List<Example> all = Datasets.load(DATA, Task.TREC).test();
        List<Example> picked = new ArrayList<>();
        for (JsonNode row : rows) {
            Example e = all.get(row.asInt());
            assertEquals(row.asInt(), e.row());
            picked.add(e);
        }
        return picked;
    }

    /** The share of the most frequent label, counted by hand. */
    private static double majority(List<Example> examples) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (Example e : examples) counts.merge(e.label(), 1, Integer::sum);
        return (double) Collections.max(counts.values()) / examples.size();
    }

    /** Right answers of the saved model (the most probable label) out of the examples. */
    private static double accuracy(Path saved, List<Example> examples) {
        try (SavedModel model = SavedModel.open(saved, Task.TREC)) {
            int right = 0;
            for (Example e : examples) {
                float[] p = model.classify(e.text()).probabilities();
                int answer = 0;
                for (int c = 1; c < p.length; c++) if (p[c] > p[answer]) answer = c;
                if (answer == e.label()) right++;
            }
            return (double) right / examples.size();
        }
    }

    @Test
    void theSameSeedDrawsTheSameSplitAndResult() {
        Cell cell = Cell.of(STORIES, 1, Task.TREC, Setting.CLS_PLAIN, 0, null);
        Protocol p = TINY.toBuilder().epochs(1).patience(1).build();
        Result a = new Experiment(DATA, p).run(cell, Trainer.Listener.NONE);
        Result b = new Experiment(DATA, p).run(cell, Trainer.Listener.NONE);
        assertArrayEquals(a.prompts().split().get("val"), b.prompts().split().get("val"));
        assertArrayEquals(a.curves().valAccuracy(), b.curves().valAccuracy());
        assertEquals(a.curves().testAccuracy(), b.curves().testAccuracy());
        assertEquals("last", a.cell().pooling());
        assertEquals(6L * 64, a.costs().headParams(), "score head: 6 TREC classes x hidden 64");
    }

    @Test
    void aDivergingCellIsRecordedAsFailedWithoutAnAccuracy() {
        Cell cell = Cell.of(STORIES, 1, Task.TREC, Setting.CLS_PLAIN, 0, null);
        Result r = new Experiment(DATA, TINY.toBuilder().lr(1e30f).build()).run(cell, Trainer.Listener.NONE);
        assertEquals(Result.FAILED, r.status());
        assertNull(r.curves().testAccuracy());
        assertTrue(r.error().contains("--lr"), r.error());
    }

    @Test
    void cellsThatCannotRunAreRefusedBeforeAnyWork() {
        var k = assertThrows(
                SlimException.class,
                () -> Cell.of(STORIES, 6, Task.SST2, Setting.CLS_PLAIN, 0, null).validate());
        assertTrue(k.getMessage().contains("cannot keep 6 layers"), k.getMessage());
        var lm = assertThrows(
                SlimException.class,
                () -> Cell.of(MINILM, 1, Task.SST2, Setting.LM_PROMPT, 0, null).validate());
        assertTrue(lm.getMessage().contains("lm-prompt needs an LM head"), lm.getMessage());
        var pool = assertThrows(
                SlimException.class,
                () -> new Cell(STORIES, 1, Task.SST2, Setting.CLS_PLAIN, 0, Pooling.FIRST).validate());
        assertTrue(pool.getMessage().contains("encoders only"), pool.getMessage());
        // a grid validates every cell up front, and leaves lm-prompt out for the encoder
        assertThrows(
                SlimException.class,
                () -> Experiment.crossProduct(
                        List.of(STORIES, MINILM),
                        List.of(1, 6),
                        List.of(Task.SST2),
                        List.of(Setting.CLS_PLAIN),
                        List.of(0),
                        null));
        List<Cell> cells = Experiment.crossProduct(
                List.of(STORIES, MINILM),
                List.of(1, 2),
                List.of(Task.SST2),
                List.of(Setting.values()),
                List.of(0),
                null);
        assertEquals(3 * 2 + 2 * 2, cells.size());
        assertEquals(Pooling.MEAN, cells.getLast().pooling(), "encoders pool the mean by default");
    }
}
