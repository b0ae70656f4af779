package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.experiments.cli.Cli.STORIES;
import static slim.experiments.cli.Cli.tiny;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.model.ModelConfig;

/** --layers on info, prune, train and grid; grid --select; and `slim layers`, through the command line. */
class LayerCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    @Test
    void infoAndPruneTakeAnySetOfLayers() throws Exception {
        Cli.Run info = run("info", STORIES, "--layers", "1,3", "--json");
        assertEquals(0, info.code(), info.err());
        JsonNode j = JSON.readTree(info.out());
        assertEquals(2, j.get("kept_layers").asInt());
        assertEquals("[1,3]", j.get("layers_kept").toString());
        Cli.Run two = run("info", STORIES, "-k", "2", "--json");
        assertEquals(
                j.get("parameters_kept").asLong(),
                JSON.readTree(two.out()).get("parameters_kept").asLong(),
                "any two layers hold as many parameters as the first two");

        Path out = tmp.resolve("pruned");
        Cli.Run prune = run("prune", STORIES, "--layers", "0,2-4", "--out", out.toString());
        assertEquals(0, prune.code(), prune.err());
        assertTrue(prune.out().contains("0,2-4, renumbered 0-3"), prune.out());
        assertEquals(4, ModelConfig.read(out).layers());
    }

    @Test
    void badLayerSpecsAreOneClearLine() {
        for (String[] c : List.of(
                new String[] {"3,1", "ascending"},
                new String[] {"1,1", "without repeats"},
                new String[] {"x", "'x' in layer list"},
                new String[] {"", "empty layer list"})) {
            Cli.Run r = run(
                    "prune",
                    STORIES,
                    "--layers",
                    c[0],
                    "--out",
                    tmp.resolve("no").toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(c[1]), r.err());
        }
        Cli.Run range = run("info", STORIES, "--layers", "0,5");
        assertEquals(1, range.code());
        assertTrue(range.err().contains("cannot keep layer 5 of a model with 5 layers"), range.err());
        Cli.Run both = run("info", STORIES, "--layers", "0", "-k", "1");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("not both"), both.err());
        Cli.Run select = run("grid", "--models", STORIES, "-k", "1", "--select", "random");
        assertEquals(2, select.code());
        assertTrue(select.err().contains("unknown layer selection 'random'"), select.err());
        assertFalse(Files.exists(tmp.resolve("no")));
    }

    @Test
    void trainKeepsTheGivenLayersAndSaysSoInItsResult() throws Exception {
        Path results = tmp.resolve("results");
        Cli.Run r =
                run(tiny("train --model %s --layers 0,4 --task sst2 --setting cls-plain --out %s", STORIES, results));
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode j = JSON.readTree(
                results.resolve("stories260K_layers0_4_sst2_cls-plain_s0.json").toFile());
        assertEquals("given", j.get("cell").get("selection").asText());
        assertEquals("[0,4]", j.get("cell").get("layers").toString());
    }

    @Test
    void aGridWithSelectWritesEachStrategyAndTheReportComparesThem() throws Exception {
        Path results = tmp.resolve("grid");
        Cli.Run g = run(tiny(
                "grid --models %s -k 2 --select first,bi,angular --tasks sst2 --settings cls-plain --seeds 0,1 --out"
                        + " %s",
                STORIES, results));
        assertEquals(0, g.code(), g.out() + g.err());
        for (String id : List.of("k2", "k2_bi", "k2_angular")) {
            for (int seed : new int[] {0, 1}) {
                Path file = results.resolve("stories260K_" + id + "_sst2_cls-plain_s" + seed + ".json");
                assertTrue(
                        Files.isRegularFile(file),
                        file + " in " + Files.list(results).toList());
                JsonNode j = JSON.readTree(file.toFile());
                assertEquals(2, j.get("cell").get("layers").size());
                assertEquals(!id.equals("k2"), j.get("layer_scores").isObject(), "scores recorded by bi and angular");
            }
        }
        Cli.Run report = run("report", results.toString());
        assertEquals(0, report.code(), report.err());
        String md = Files.readString(results.resolve("report/tables.md"));
        assertTrue(md.contains("### Which layers to keep: cls-plain"), md);
        assertTrue(md.contains("| first | bi | angular |"), md);
        assertTrue(md.contains("· bi |") && md.contains("· angular |"), md);
    }

    @Test
    void layersScoresAModelAndSaysWhatEachSelectionKeeps() throws Exception {
        Path out = tmp.resolve("scores");
        Cli.Run r = run(
                "layers",
                STORIES,
                "--task",
                "trec",
                "--examples",
                "4",
                "--keep",
                "3",
                "--max-prompt-tokens",
                "64",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("5 layers scored on 4 trec cls-plain training prompts"), r.out());
        assertTrue(r.out().contains("first    0-2"), r.out());
        assertTrue(r.out().contains("bi ") && r.out().contains("angular "), r.out());
        List<String> csv = Files.readAllLines(out.resolve("layers.csv"));
        assertEquals("metric,start_layer,block_size,value", csv.getFirst());
        assertEquals(1 + 5 + 5 + 15, csv.size(), "BI twice per layer, angular for every block");
        for (String png : List.of("layers-angular.png", "layers-bi.png")) {
            assertTrue(Files.size(out.resolve(png)) > 1000, png);
        }
    }
}
