package slim.experiments;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.SlimException;
import slim.nn.io.AtomicFile;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerSelection;

/**
 * The study's tables from a folder of results, in the paper's layout: a table per setting; in it, per
 * model, a row per kept-layer count with its parameter count, columns the four tasks and their
 * average, each the test accuracy (%) as mean ± standard deviation over seeds. Rows for the paper's
 * own models (GPT2-XL, OPT-1.3b) are followed by the paper's numbers. Cells whose layers were
 * chosen otherwise than the first k (by BI, angular distance, or given) get rows of their own, and a
 * table per setting compares the selections at each k. Also Figure 2: the average against kept
 * layers, one line per setting, model and selection.
 */
public final class Report {
    /** The tasks and settings as results name them, in the paper's column and table order (the enums' order). */
    public static final List<String> TASKS =
            Stream.of(Task.values()).map(Task::id).toList();

    public static final List<String> TASK_NAMES = List.of("AGNews", "EmoC", "SST-2", "TREC");
    static final List<String> SETTINGS =
            Stream.of(Setting.values()).map(Setting::id).toList();
    private static final Map<String, String> SETTING_TITLES = Map.of(
            "lm-prompt", "one demonstration per class, the LM head predicts the label word",
            "cls-prompt", "the same prompts, a classification head",
            "cls-plain", "no demonstrations, the input alone, a classification head");

    /** Accuracy in % over seeds; std is the sample standard deviation (NaN with one seed); n 0 when absent. */
    public record Stat(double mean, double std, int n) {
        static final Stat NONE = new Stat(Double.NaN, Double.NaN, 0);

        static Stat of(List<Double> values) {
            int n = values.size();
            if (n == 0) return NONE;
            double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
            double ss =
                    values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
            return new Stat(mean, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN, n);
        }

        String text() {
            if (n == 0) return "–";
            return Double.isNaN(std)
                    ? String.format(Locale.ROOT, "%.2f", mean)
                    : String.format(Locale.ROOT, "%.2f ± %.2f", mean, std);
        }
    }

    /**
     * One row: slim's results for a model with keep layers in a setting, or the paper's (paper true).
     *
     * @param selection how the layers were chosen: first, bi, angular, or "layers 0,2" for a given set
     * @param layers    the kept layers when every result of the row kept the same, else "varies"
     */
    public record Line(
            String setting,
            String model,
            String selection,
            int keep,
            String layers,
            String params,
            Stat[] tasks,
            Stat average,
            boolean paper) {

        /** The row's model as the tables and the figure name it: with its selection unless the study's. */
        String modelAndSelection() {
            return selection.equals(FIRST) ? model : model + " · " + selection;
        }
    }

    private static final String FIRST = LayerSelection.FIRST.label();

    private final List<Line> lines;
    private final List<Result> ok;
    private final List<Result> failed;
    /** Majority-class test accuracy (%) per task, over the results that have one. */
    private final Map<String, Double> majority;

    private final int maxSeeds;

    private Report(List<Line> lines, List<Result> ok, List<Result> failed, Map<String, Double> majority, int maxSeeds) {
        this.lines = lines;
        this.ok = ok;
        this.failed = failed;
        this.majority = majority;
        this.maxSeeds = maxSeeds;
    }

    public List<Line> lines() {
        return lines;
    }

    public List<Result> failed() {
        return failed;
    }

    /** @param paper the study's numbers, or null to leave them out */
    public static Report of(List<Result> results, PaperTables paper) {
        List<Result> ok = results.stream().filter(Result::ok).toList();
        List<Result> failed = results.stream().filter(r -> !r.ok()).toList();
        Map<String, List<Double>> majorities = new TreeMap<>();
        for (Result r : ok)
            majorities
                    .computeIfAbsent(r.cell().task(), t -> new ArrayList<>())
                    .add(100 * r.curves().majorityAccuracy());
        Map<String, Double> majority = new LinkedHashMap<>();
        majorities.forEach((t, v) -> majority.put(t, Stat.of(v).mean()));

        List<Line> lines = new ArrayList<>();
        int maxSeeds = 0;
        for (String setting : SETTINGS) {
            Map<String, List<Result>> byModel = new TreeMap<>();
            for (Result r : ok)
                if (r.cell().setting().equals(setting))
                    byModel.computeIfAbsent(label(r), m -> new ArrayList<>()).add(r);
            for (var model : byModel.entrySet()) {
                Map<String, Map<Integer, List<Result>>> bySelection = new TreeMap<>(Report::studyFirst);
                for (Result r : model.getValue()) {
                    bySelection
                            .computeIfAbsent(selection(r), x -> new TreeMap<>(Comparator.reverseOrder()))
                            .computeIfAbsent(r.cell().keep(), k -> new ArrayList<>())
                            .add(r);
                }
                for (var selection : bySelection.entrySet()) {
                    for (var keep : selection.getValue().entrySet()) {
                        Line line = line(setting, model.getKey(), selection.getKey(), keep.getKey(), keep.getValue());
                        lines.add(line);
                        maxSeeds = Math.max(maxSeeds, line.average().n());
                    }
                }
                Result any = model.getValue().getFirst();
                String paperModel = PaperTables.paperModel(
                        any.cell().modelType(),
                        any.cell().modelLayers(),
                        any.cell().hidden());
                if (paper != null && paperModel != null) {
                    for (PaperTables.Row p : paper.of(setting, paperModel)) {
                        Stat[] tasks = new Stat[TASKS.size()];
                        for (int t = 0; t < tasks.length; t++) tasks[t] = new Stat(p.accuracies()[t], Double.NaN, 1);
                        lines.add(new Line(
                                setting,
                                paperModel + " (paper)",
                                FIRST,
                                p.layers(),
                                "",
                                p.params(),
                                tasks,
                                new Stat(p.average(), Double.NaN, 1),
                                true));
                    }
                }
            }
        }
        return new Report(List.copyOf(lines), ok, failed, majority, maxSeeds);
    }

    /** Groups a model's results: its folder name, and for encoders the pooling, which changes the model. */
    static String label(Result r) {
        boolean encoder = "bert".equals(r.cell().modelType());
        return encoder && r.cell().pooling() != null
                ? r.cell().modelName() + " (" + r.cell().pooling() + " pooling)"
                : r.cell().modelName();
    }

    /** How a result's layers were chosen, as rows are told apart: a given set by its layers. */
    static String selection(Result r) {
        String s = r.cell().selectionOrFirst();
        return s.equals(LayerChoice.GIVEN) ? "layers " + layers(r) : s;
    }

    /** The kept layers; results written before they were recorded kept the first k. */
    private static String layers(Result r) {
        List<Integer> l = r.cell().layers();
        return (l == null ? KeptLayers.first(r.cell().keep()) : new KeptLayers(l)).format();
    }

    /** The study's selection first, the others by name. */
    private static int studyFirst(String a, String b) {
        return a.equals(b) ? 0 : a.equals(FIRST) ? -1 : b.equals(FIRST) ? 1 : a.compareTo(b);
    }

    private static Line line(String setting, String model, String selection, int keep, List<Result> results) {
        Stat[] tasks = new Stat[TASKS.size()];
        Map<Integer, Map<String, Double>> bySeed = new TreeMap<>();
        List<Double> taskMeans = new ArrayList<>();
        for (int t = 0; t < tasks.length; t++) {
            String task = TASKS.get(t);
            List<Double> acc = new ArrayList<>();
            for (Result r : results) {
                if (!r.cell().task().equals(task)) continue;
                acc.add(100 * r.curves().testAccuracy());
                bySeed.computeIfAbsent(r.cell().seed(), s -> new LinkedHashMap<>())
                        .put(task, 100 * r.curves().testAccuracy());
            }
            tasks[t] = Stat.of(acc);
            if (tasks[t].n() > 0) taskMeans.add(tasks[t].mean());
        }
        // the average's spread: over the seeds that ran every task present, of each seed's average
        List<Double> seedAverages = new ArrayList<>();
        for (Map<String, Double> s : bySeed.values()) {
            if (s.size() == taskMeans.size())
                seedAverages.add(s.values().stream()
                        .mapToDouble(Double::doubleValue)
                        .average()
                        .orElse(0));
        }
        Stat spread = Stat.of(seedAverages);
        Stat average = taskMeans.isEmpty()
                ? Stat.NONE
                : new Stat(
                        taskMeans.stream()
                                .mapToDouble(Double::doubleValue)
                                .average()
                                .orElse(0),
                        spread.std(),
                        spread.n());
        List<String> kept = results.stream().map(Report::layers).distinct().toList();
        return new Line(
                setting,
                model,
                selection,
                keep,
                kept.size() == 1 ? kept.getFirst() : "varies",
                ParamCount.human(results.getFirst().backboneParams()),
                tasks,
                average,
                false);
    }

    // ------------------------------------------------------------------ Markdown and CSV

    public String markdown() {
        StringBuilder b = new StringBuilder();
        int table = 0;
        for (String setting : SETTINGS) {
            List<Line> rows =
                    lines.stream().filter(l -> l.setting().equals(setting)).toList();
            table++;
            if (rows.isEmpty()) continue;
            b.append("### Table ")
                    .append(table)
                    .append(": ")
                    .append(setting)
                    .append(" (")
                    .append(SETTING_TITLES.get(setting))
                    .append(")\n\n");
            b.append("| Model | Layers | Params | ")
                    .append(String.join(" | ", TASK_NAMES))
                    .append(" | Average |\n");
            b.append("|---|---:|---:|")
                    .append("---:|".repeat(TASK_NAMES.size() + 1))
                    .append('\n');
            for (Line l : rows) {
                b.append("| ")
                        .append(l.modelAndSelection())
                        .append(" | ")
                        .append(l.keep())
                        .append(" | ")
                        .append(l.params())
                        .append(" | ");
                for (Stat s : l.tasks()) b.append(s.text()).append(" | ");
                b.append(l.average().text()).append(" |\n");
            }
            b.append('\n');
        }
        selectionTables(b);
        if (lines.isEmpty()) b.append("No finished cells to report.\n\n");
        b.append("Test accuracy (%)")
                .append(maxSeeds > 1 ? ", mean ± sample standard deviation over seeds (up to " + maxSeeds + ")" : "")
                .append("; Average is the mean over the tasks in the row.");
        if (!majority.isEmpty()) {
            b.append(" Majority-class baseline:");
            for (int t = 0; t < TASKS.size(); t++) {
                Double m = majority.get(TASKS.get(t));
                if (m != null) b.append(String.format(Locale.ROOT, " %s %.2f,", TASK_NAMES.get(t), m));
            }
            b.setLength(b.length() - 1);
            b.append('.');
        }
        b.append('\n');
        if (!failed.isEmpty()) {
            b.append("\n").append(failed.size()).append(" cell(s) failed and are not counted:\n");
            for (Result r : failed) {
                b.append(String.format(
                        "- %s k=%d %s %s seed %d: %s%n",
                        r.cell().modelName(),
                        r.cell().keep(),
                        r.cell().task(),
                        r.cell().setting(),
                        r.cell().seed(),
                        r.error()));
            }
        }
        return b.toString();
    }

    /**
     * Per setting where layers were also chosen by BI or angular distance: the average over tasks of
     * each selection at each k, with the layers it kept.
     */
    private void selectionTables(StringBuilder b) {
        List<String> selections = List.of(FIRST, LayerSelection.BI.label(), LayerSelection.ANGULAR.label());
        for (String setting : SETTINGS) {
            List<Line> rows = lines.stream()
                    .filter(l -> l.setting().equals(setting) && !l.paper() && selections.contains(l.selection()))
                    .toList();
            if (rows.stream().allMatch(l -> l.selection().equals(FIRST))) continue;
            b.append("### Which layers to keep: ").append(setting).append("\n\n");
            b.append("| Model | k | ").append(String.join(" | ", selections)).append(" |\n");
            b.append("|---|---:|").append("---|".repeat(selections.size())).append('\n');
            Map<String, Map<Integer, Map<String, Line>>> byModel = new TreeMap<>();
            for (Line l : rows) {
                byModel.computeIfAbsent(l.model(), m -> new TreeMap<>())
                        .computeIfAbsent(l.keep(), k -> new TreeMap<>())
                        .put(l.selection(), l);
            }
            List<String> best = new ArrayList<>();
            List<String> narrowed = new ArrayList<>();
            byModel.forEach((model, byKeep) -> byKeep.forEach((keep, bySelection) -> {
                // Selections are compared over the tasks every one of them ran: an average over four tasks
                // beside one over two would compare the tasks, not the selections.
                List<Integer> common = IntStream.range(0, TASKS.size())
                        .filter(t -> bySelection.values().stream().allMatch(l -> l.tasks()[t].n() > 0))
                        .boxed()
                        .toList();
                boolean same = bySelection.values().stream()
                        .allMatch(
                                l -> Stream.of(l.tasks()).filter(t -> t.n() > 0).count() == common.size());
                if (!same) {
                    narrowed.add(model + " k=" + keep + " over "
                            + String.join(", ", common.stream().map(TASKS::get).toList()));
                }
                Map<String, Double> means = new TreeMap<>();
                b.append("| ").append(model).append(" | ").append(keep).append(" |");
                for (String s : selections) {
                    Line l = bySelection.get(s);
                    String cell = "–";
                    if (l != null && !common.isEmpty()) {
                        double mean = same
                                ? l.average().mean()
                                : common.stream()
                                        .mapToDouble(t -> l.tasks()[t].mean())
                                        .average()
                                        .orElseThrow();
                        means.put(s, mean);
                        String value = same ? l.average().text() : String.format(Locale.ROOT, "%.2f*", mean);
                        cell = value + " (layers " + l.layers() + ")";
                    }
                    b.append(' ').append(cell).append(" |");
                }
                b.append('\n');
                means.entrySet().stream()
                        .max(Map.Entry.comparingByValue())
                        .ifPresent(e -> best.add(String.format(
                                Locale.ROOT, "%s k=%d %s (%.2f)", model, keep, e.getKey(), e.getValue())));
            }));
            b.append("\nAverage test accuracy (%) over the tasks of the row, mean ± standard deviation over seeds; bi")
                    .append(" keeps the k layers of highest Block Influence, angular drops the block of layers")
                    .append(" whose input and output are closest, both scored on each cell's training prompts.")
                    .append(
                            narrowed.isEmpty()
                                    ? ""
                                    : " * Averaged over only the tasks every selection of the row ran ("
                                            + String.join("; ", narrowed) + "), without a spread.")
                    .append(" Highest average: ")
                    .append(String.join("; ", best))
                    .append(".\n\n");
        }
    }

    /**
     * The same numbers in tidy form, for pandas and R: one row per model, pooling, selection, k, setting
     * and task with the test accuracy's mean and sample std (%, empty with one seed) over n_seeds seeds,
     * and the backbone's parameter count as a number. The paper's own rows are in its CSV, not here.
     */
    public String csv() {
        StringWriter out = new StringWriter();
        String[] header = {
            "model", "pooling", "selection", "layers", "k", "setting", "task", "mean", "std", "n_seeds", "params"
        };
        Map<List<Object>, List<Result>> groups = new TreeMap<>(Report::byColumns);
        for (Result r : ok) {
            Result.CellInfo c = r.cell();
            groups.computeIfAbsent(
                            List.of(
                                    c.modelName(),
                                    c.pooling() == null ? "" : c.pooling(),
                                    selection(r),
                                    layers(r),
                                    c.keep(),
                                    c.setting(),
                                    c.task()),
                            g -> new ArrayList<>())
                    .add(r);
        }
        try (CSVPrinter csv = new CSVPrinter(
                out, CSVFormat.DEFAULT.builder().setHeader(header).get())) {
            for (var g : groups.entrySet()) {
                Stat s = Stat.of(g.getValue().stream()
                        .map(r -> 100 * r.curves().testAccuracy())
                        .toList());
                List<Object> row = new ArrayList<>(g.getKey());
                row.addAll(List.of(
                        number(s.mean()),
                        number(s.std()),
                        s.n(),
                        g.getValue().getFirst().backboneParams()));
                csv.printRecord(row);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /** Rows in the order of their columns: names alphabetically, k ascending. */
    private static int byColumns(List<Object> a, List<Object> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = a.get(i) instanceof Integer x
                    ? Integer.compare(x, (Integer) b.get(i))
                    : a.get(i).toString().compareTo(b.get(i).toString());
            if (c != 0) return c;
        }
        return 0;
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** Writes tables.md, tables.csv and figure2.png into dir, each atomically; returns the figure's path. */
    public Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            AtomicFile.writeString(dir.resolve("tables.md"), markdown());
            AtomicFile.writeString(dir.resolve("tables.csv"), csv());
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot write the report: " + e.getMessage(), e);
        }
        Path png = dir.resolve("figure2.png");
        Figure.accuracyByLayers(lines, png);
        return png;
    }
}
