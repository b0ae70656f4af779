package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.model.Pooling;

/** Tables, CSV and figure from made-up result files. */
class ReportTest {
    private static final Synthetic.Model TINY = new Synthetic.Model("tiny", "llama", 5, 64);
    private static final Synthetic.Model TINY_6 = new Synthetic.Model("tiny", "llama", 6, 32);
    private static final Synthetic.Model GPT2_XL = new Synthetic.Model("gpt2-xl", "gpt2", 48, 1600);

    @TempDir
    Path dir;

    static List<Result> results() {
        List<Result> rs = new ArrayList<>();
        String[] tasks = {"agnews", "emocontext", "sst2", "trec"};
        for (int k : new int[] {1, 2}) {
            for (int t = 0; t < 4; t++) {
                // seed 0 scores 0.60 + 0.1 t, seed 1 ten points more; k = 2 adds five points
                rs.add(TINY.first(k).result(tasks[t], "cls-plain", 0, 0.60 + 0.1 * t + 0.05 * (k - 1)));
                rs.add(TINY.first(k).result(tasks[t], "cls-plain", 1, 0.70 + 0.1 * t + 0.05 * (k - 1)));
            }
        }
        rs.add(TINY.first(1).result("sst2", "lm-prompt", 0, 0.55));
        return rs;
    }

    @Test
    void tablesShowMeanAndSpreadOverSeedsPerSettingModelAndKeptLayers() throws Exception {
        List<Result> rs = results();
        for (Result r : rs)
            ResultFiles.write(
                    dir.resolve(r.cell().modelName() + r.cell().keep()
                            + r.cell().task() + r.cell().setting() + r.cell().seed() + ".json"),
                    r);
        Report report = Report.of(ResultFiles.readAll(dir), null);
        String md = report.markdown();
        assertTrue(md.contains("### Table 1: lm-prompt"), md);
        assertTrue(md.contains("### Table 3: cls-plain"), md);
        assertTrue(!md.contains("Table 2"), "no cls-prompt results, no table");
        // k = 1, AGNews: 60 and 70 -> 65.00 ± 7.07; average over tasks: seed averages 75 and 85 -> 80.00 ± 7.07
        assertTrue(
                md.contains(
                        "| tiny | 1 | 1K | 65.00 ± 7.07 | 75.00 ± 7.07 | 85.00 ± 7.07 | 95.00 ± 7.07 | 80.00 ± 7.07 |"),
                md);
        assertTrue(
                md.indexOf("| tiny | 2 |") < md.indexOf("| tiny | 1 | 1K | 65"),
                "kept layers descend, as in the paper");
        assertTrue(
                md.contains("| tiny | 1 | 1K | – | – | 55.00 | – | 55.00 |"), "a single seed shows no spread: " + md);

        String csv = report.csv();
        String[] lines = csv.strip().split("\r?\n");
        assertEquals("model,pooling,selection,layers,k,setting,task,mean,std,n_seeds,params", lines[0]);
        assertTrue(Arrays.asList(lines).contains("tiny,last,first,0,1,cls-plain,agnews,65.00,7.07,2,1100"), csv);
        for (CSVRecord row : CSVFormat.DEFAULT.builder().setHeader().get().parse(new StringReader(csv))) {
            // what pandas reads as numbers: mean, std (empty: one seed), n_seeds, params
            assertEquals(11, row.size(), row.toString());
            Double.parseDouble(row.get("mean"));
            if (!row.get("std").isEmpty()) Double.parseDouble(row.get("std"));
            assertTrue(
                    Integer.parseInt(row.get("n_seeds")) >= 1 && Long.parseLong(row.get("params")) > 0, row.toString());
        }
        assertTrue(!md.contains("Which layers to keep"), "no other selection, no comparison");

        Path png = report.write(dir.resolve("report"));
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000, "a real image");
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(bytes, 4));
        String svg = Files.readString(dir.resolve("report/figure2.svg"));
        assertTrue(svg.contains("<svg") && svg.contains("kept layers"), "Figure 2 as SVG too");
        assertEquals(md, Files.readString(dir.resolve("report/tables.md")));
        assertEquals(csv, Files.readString(dir.resolve("report/tables.csv")));
    }

    @Test
    void thePapersModelsAreShownBesideThePapersNumbers() {
        List<Result> rs = new ArrayList<>();
        for (String task : Report.TASKS) rs.add(GPT2_XL.first(1).result(task, "lm-prompt", 0, 0.8));
        Report report = Report.of(rs, PaperTables.read(Shared.resolve("paper", "tables.csv")));
        String md = report.markdown();
        assertTrue(md.contains("| gpt2-xl | 1 |"), md);
        assertTrue(md.contains("| GPT2-XL (paper) | 1 | 112M | 85.30 | 76.76 | 72.89 | 83.16 | 79.53 |"), md);
        assertTrue(!md.contains("OPT-1.3b"), "only the matching model's numbers");
        assertFalse(report.csv().contains("paper"), "the paper's rows are in its own CSV: " + report.csv());
    }

    @Test
    void selectionsGetRowsOfTheirOwnAndATableComparingThemAtEachK() throws Exception {
        List<Result> rs = new ArrayList<>();
        for (int seed : new int[] {0, 1}) {
            for (String task : List.of("sst2", "trec")) {
                double bump = seed * 0.1;
                rs.add(TINY_6.first(1).result(task, "cls-plain", seed, 0.5 + bump));
                rs.add(TINY_6.selected("bi", List.of(seed + 3)).result(task, "cls-plain", seed, 0.6 + bump));
                rs.add(TINY_6.selected("angular", List.of(5)).result(task, "cls-plain", seed, 0.7 + bump));
            }
        }
        Report report = Report.of(rs, null);
        String md = report.markdown();
        assertTrue(md.contains("| tiny | 1 | 1K | – | – | 55.00 ± 7.07 | 55.00 ± 7.07 | 55.00 ± 7.07 |"), md);
        assertTrue(md.contains("| tiny · bi | 1 | 1K | – | – | 65.00 ± 7.07 |"), md);
        assertTrue(md.contains("### Which layers to keep: cls-plain"), md);
        assertTrue(
                md.contains("| tiny | 1 | 55.00 ± 7.07 (layers 0) | 65.00 ± 7.07 (layers varies) | 75.00 ± 7.07 (layers"
                        + " 5) |"),
                md);
        assertTrue(md.contains("Highest average: tiny k=1 angular (75.00)."), md);
        assertTrue(report.csv().contains("tiny,last,angular,5,1,cls-plain,sst2,75.00,7.07,2,1100"), report.csv());
        Path png = report.write(dir.resolve("report"));
        assertTrue(Files.size(png) > 1000);
        assertEquals(3, report.lines().size(), "a row per selection");
    }

    @Test
    void selectionsAreComparedOverTheTasksTheyAllRan() {
        List<Result> rs = new ArrayList<>();
        for (String task : List.of("agnews", "emocontext", "sst2", "trec")) {
            double acc = task.equals("agnews") ? 0.9 : 0.5;
            rs.add(TINY_6.first(1).result(task, "cls-plain", 0, acc));
        }
        for (String task : List.of("sst2", "trec")) {
            rs.add(TINY_6.selected("bi", List.of(3)).result(task, "cls-plain", 0, 0.6));
        }
        String md = Report.of(rs, null).markdown();
        assertTrue(md.contains("| tiny | 1 | 50.00* (layers 0) | 60.00* (layers 3) |"), md);
        assertTrue(md.contains("(tiny k=1 over sst2, trec)"), md);
        assertTrue(md.contains("Highest average: tiny k=1 bi (60.00)."), md);
    }

    @Test
    void failedCellsAreListedNotCounted() {
        List<Result> rs = new ArrayList<>(results());
        Cell cell = new Cell(Path.of("tiny"), 1, Task.SST2, Setting.CLS_PROMPT, 0, Pooling.LAST);
        rs.add(Result.failure(
                cell, Protocol.study(), Synthetic.origin(cell), "the training loss became NaN at epoch 1, step 3"));
        Report report = Report.of(rs, null);
        assertTrue(report.markdown().contains("1 cell(s) failed and are not counted"), report.markdown());
        assertTrue(report.markdown().contains("loss became NaN"));
        assertTrue(report.lines().stream().noneMatch(l -> l.setting().equals("cls-prompt")));
    }

    private void writeAll(List<Result> rs) {
        for (Result r : rs) ResultFiles.write(ResultFiles.file(dir, cellOf(r)), r);
    }

    private static Cell cellOf(Result r) {
        return new Cell(
                Path.of(r.cell().model()),
                r.cell().keep(),
                Task.parse(r.cell().task()),
                Setting.parse(r.cell().setting()),
                r.cell().seed(),
                Pooling.LAST);
    }

    private SlimException refused() {
        return assertThrows(SlimException.class, () -> ResultFiles.readAll(dir));
    }

    @Test
    void damagedEmptyAndForeignFilesAreNamedOrSkippedWithASentence() throws Exception {
        writeAll(results());
        Path cut = dir.resolve("cut.json"), empty = dir.resolve("empty.json"), foreign = dir.resolve("other-tool.json");
        String whole = Files.readString(Files.list(dir)
                .filter(f -> f.toString().endsWith(".json"))
                .findFirst()
                .orElseThrow());
        Files.writeString(cut, whole.substring(0, whole.length() / 2));
        SlimException e = refused();
        assertTrue(e.getMessage().contains("cut.json") && e.getMessage().contains("--skip-bad"), e.getMessage());
        Files.delete(cut);
        Files.writeString(empty, "");
        assertTrue(refused().getMessage().contains("empty.json"));
        Files.delete(empty);
        Files.writeString(foreign, "{\"status\": \"done\", \"accuracy\": 0.9}");
        e = refused();
        assertTrue(
                e.getMessage().contains("other-tool.json") && e.getMessage().contains("not a slim result"),
                e.getMessage());
        List<String> skipped = new ArrayList<>();
        assertEquals(results().size(), ResultFiles.readAll(dir, true, skipped).size());
        assertEquals(1, skipped.size());
        assertTrue(skipped.getFirst().contains("other-tool.json"), skipped.toString());
    }

    @Test
    void aCopyOfACellIsRefusedNotCountedAsAnotherSeed() throws Exception {
        writeAll(results());
        Path original = ResultFiles.file(dir, cellOf(results().getFirst()));
        Files.createDirectories(dir.resolve("backup"));
        Files.copy(original, dir.resolve("backup").resolve("copy.json"));
        SlimException e = refused();
        assertTrue(
                e.getMessage().contains("copy.json") && e.getMessage().contains("are both results of"), e.getMessage());
    }

    @Test
    void resultsOfOneModelUnderTwoProtocolsAreNotAveraged() throws Exception {
        List<Result> rs = new ArrayList<>(results());
        Result first = rs.removeFirst();
        writeAll(rs);
        Protocol other = first.protocol().toBuilder().epochs(7).build();
        Result changed = new Result(
                first.schemaVersion(),
                first.cell(),
                other,
                first.origin(),
                first.status(),
                first.error(),
                first.run(),
                first.prompts(),
                first.curves(),
                first.costs(),
                first.layerScores(),
                first.predictions());
        ResultFiles.write(ResultFiles.file(dir, cellOf(first)), changed);
        SlimException e = refused();
        assertTrue(
                e.getMessage().contains("made differently")
                        && e.getMessage().contains("another protocol: epochs 7 in the first, 50 in the second"),
                e.getMessage());
    }

    @Test
    void aSavedModelsFilesAreNotTakenForResults() throws Exception {
        writeAll(results());
        Path model = dir.resolve("saved-model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"llama\"}");
        Files.writeString(model.resolve("slim.json"), "{\"task\": \"sst2\"}");
        assertEquals(results().size(), ResultFiles.readAll(dir).size());
    }

    /** Results of schema 2 (no origin) are still read when all of a folder's are; mixed with newer ones, refused. */
    @Test
    void resultsWithoutAnOriginAreReadAloneButNotMixedWithOnesThatHaveIt() throws Exception {
        List<Result> rs = new ArrayList<>(results());
        Result first = rs.removeFirst();
        writeAll(rs.stream().map(r -> Synthetic.withOrigin(r, null)).toList());
        ResultFiles.write(ResultFiles.file(dir, cellOf(first)), Synthetic.withOrigin(first, null));
        assertEquals(results().size(), ResultFiles.readAll(dir).size());
        ResultFiles.write(ResultFiles.file(dir, cellOf(first)), first);
        SlimException e = refused();
        assertTrue(e.getMessage().contains("schema_version 2"), e.getMessage());
    }

    /** Two models of one name, or two data files of one task, are named rather than averaged. */
    @Test
    void resultsOfAnotherModelOrOtherDataAreNotAveraged() throws Exception {
        List<Result> rs = new ArrayList<>(results());
        Result first = rs.removeFirst();
        writeAll(rs);
        Origin o = first.origin();
        Path file = ResultFiles.file(dir, cellOf(first));
        ResultFiles.write(file, Synthetic.withOrigin(first, new Origin("another", o.dataFiles())));
        assertTrue(refused().getMessage().contains("another model"), refused().getMessage());
        ResultFiles.write(file, Synthetic.withOrigin(first, Synthetic.origin("elsewhere")));
        assertTrue(
                refused().getMessage().contains("other train data"), refused().getMessage());
    }
}
