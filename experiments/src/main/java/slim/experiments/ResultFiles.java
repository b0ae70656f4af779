package slim.experiments;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import slim.data.Task;
import slim.nn.SlimException;
import slim.nn.io.AtomicFile;

/**
 * Result files: one JSON file per cell, named after the cell, written to a hidden temporary file and
 * renamed into place, so a file that exists is complete: a killed run leaves no half-written result.
 */
public final class ResultFiles {
    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ResultFiles() {}

    public static Path file(Path dir, Cell cell) {
        return file(dir, cell.id());
    }

    /** The result file of the cell with this id ({@link Cell#id()}). */
    public static Path file(Path dir, String cellId) {
        return dir.resolve(cellId + ".json");
    }

    /** The per-example answers beside a result file: CELL.predictions.csv next to CELL.json. */
    public static Path predictionsFile(Path resultFile) {
        String name = resultFile.getFileName().toString();
        return resultFile.resolveSibling(name.substring(0, name.length() - ".json".length()) + ".predictions.csv");
    }

    /**
     * Writes a cell's result, its predictions first: where the JSON exists, so do they (a failed cell
     * has none, and any left from an earlier run of the cell go).
     */
    public static void writeResult(Path file, Result result) {
        Path predictions = predictionsFile(file);
        Result.Answers answers = result.predictions();
        if (answers == null) {
            try {
                Files.deleteIfExists(predictions);
            } catch (IOException e) {
                throw new SlimException(
                        predictions + ": cannot remove the predictions of an earlier run: " + e.getMessage(), e);
            }
        } else {
            List<String> classes = Task.parse(result.cell().task()).labels();
            StringBuilder csv = new StringBuilder(Predictions.csvHeader(classes));
            answers.val().appendCsv(csv, "val", result.prompts().split().get("val"), classes);
            answers.test().appendCsv(csv, "test", result.prompts().split().get("test"), classes);
            writeText(predictions, csv.toString());
        }
        write(file, result);
    }

    /** Writes value as JSON, atomically. */
    public static void write(Path file, Object value) {
        AtomicFile.write(file, tmp -> JSON.writeValue(tmp.toFile(), value));
    }

    /** Writes text (UTF-8), atomically. */
    public static void writeText(Path file, String text) {
        AtomicFile.writeString(file, text);
    }

    /** Reads a result file, refusing (naming the file) one that is damaged, empty or another tool's JSON. */
    public static Result read(Path file) {
        Result r;
        try {
            r = JSON.readValue(file.toFile(), Result.class);
        } catch (IOException e) {
            throw new SlimException(
                    file + ": not a slim result file (damaged or cut short?): " + firstLine(e.getMessage()), e);
        }
        String missing = r == null ? "everything" : r.missingPart();
        if (missing != null) throw new SlimException(file + ": not a slim result file: no " + missing);
        return r;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    /**
     * The temporary files and model folders a killed run leaves: {@code .NAME.tmp-PID}, {@code .NAME.partial-PID}
     * and AtomicFile's {@code .NAME.PID.NANOS.tmp}; the pid is group 1 or 2.
     */
    private static final Pattern LEFTOVER =
            Pattern.compile("\\..+\\.(?:tmp|partial)-(\\d+)|\\..+\\.(\\d+)\\.\\d+\\.tmp");

    /** How long a leftover must have been untouched: a process on another host sharing the folder may own it. */
    static final Duration LEFTOVER_AGE = Duration.ofMinutes(2);

    /**
     * Deletes from dir what runs that are no longer alive left half-written (a result being written, a model being
     * saved), and returns their names. A file whose pid runs here is left to it, and so is one touched in the last
     * two minutes (its pid may be of another host that shares the folder, still writing).
     */
    public static List<String> cleanLeftovers(Path dir) {
        List<String> removed = new ArrayList<>();
        if (!Files.isDirectory(dir)) return removed;
        Instant recent = Instant.now().minus(LEFTOVER_AGE);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Matcher m = LEFTOVER.matcher(f.getFileName().toString());
                if (!m.matches()
                        || ProcessHandle.of(Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2)))
                                .map(ProcessHandle::isAlive)
                                .orElse(false)
                        || lastTouched(f).isAfter(recent)) {
                    continue;
                }
                try (Stream<Path> tree = Files.walk(f)) {
                    for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
                removed.add(f.getFileName().toString());
            }
        } catch (IOException | NumberFormatException e) {
            throw new SlimException(dir + ": cannot clean up after an earlier run: " + e.getMessage(), e);
        }
        return removed;
    }

    /** The latest modification of a file, or of anything in a folder. */
    private static Instant lastTouched(Path f) throws IOException {
        try (Stream<Path> tree = Files.walk(f)) {
            Instant latest = Instant.EPOCH;
            for (Path p : tree.toList()) {
                Instant t = Files.getLastModifiedTime(p).toInstant();
                if (t.isAfter(latest)) latest = t;
            }
            return latest;
        }
    }

    /** Every result in dir and its sub-folders; see {@link #readAll(Path, boolean, List)}. */
    public static List<Result> readAll(Path dir) {
        return readAll(dir, false, new ArrayList<>());
    }

    /**
     * Every result file in dir and its sub-folders, in name order: every JSON file outside hidden names and model
     * folders (a folder with a config.json: a model saved by --save). One that is not a result (damaged, cut short,
     * another tool's) is refused, naming it, unless skipBad, which leaves it out and adds why to skipped. Two files
     * of one cell (a backup copy) are refused, and so are results of one model made under different protocols:
     * averaged together they would count a seed twice or mix what should be compared.
     */
    public static List<Result> readAll(Path dir, boolean skipBad, List<String> skipped) {
        if (!Files.isDirectory(dir)) throw new SlimException(dir + ": no such folder of results");
        Map<Path, Result> found = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(f -> isCandidate(dir, f)).sorted().toList()) {
                try {
                    found.put(f, read(f));
                } catch (SlimException e) {
                    if (!skipBad)
                        throw new SlimException(
                                e.getMessage() + " (move it away, or pass --skip-bad to leave it out)", e);
                    skipped.add(e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list: " + e.getMessage(), e);
        }
        requireOneOrigin(found);
        return List.copyOf(found.values());
    }

    /**
     * Refuses two results of one cell, and results that must not be averaged or compared: of one model name under
     * two protocols or from two models (by fingerprint), or of one task from two data files.
     */
    private static void requireOneOrigin(Map<Path, Result> found) {
        Map<String, Path> byCell = new HashMap<>();
        Map<String, Path> byModel = new HashMap<>();
        Map<String, Path> byTask = new HashMap<>();
        for (Map.Entry<Path, Result> e : found.entrySet()) {
            Result r = e.getValue();
            Result.CellInfo c = r.cell();
            String cell = c.modelName() + " k=" + c.keep()
                    + (c.selection() == null ? "" : " " + c.selection() + " " + c.layers()) + " " + c.task() + " "
                    + c.setting() + " seed " + c.seed() + (c.pooling() == null ? "" : " pooling " + c.pooling());
            Path twin = byCell.putIfAbsent(cell, e.getKey());
            if (twin != null) {
                throw new SlimException(twin + " and " + e.getKey() + " are both results of " + cell
                        + " (a copy?); keep one, or report them from separate folders");
            }
            for (Path first :
                    new Path[] {byModel.putIfAbsent(c.modelName(), e.getKey()), byTask.putIfAbsent(c.task(), e.getKey())
                    }) {
                String difference = first == null ? null : Origin.difference(found.get(first), r);
                if (difference != null) {
                    throw new SlimException(first + " and " + e.getKey() + " were made differently (" + difference
                            + "); report them from separate folders");
                }
            }
        }
    }

    /** A JSON file with no hidden name on its way from dir (.slim/ holds the grid's plans, not results). */
    private static boolean isCandidate(Path dir, Path f) {
        String name = f.getFileName().toString();
        boolean hidden = false;
        for (Path part : dir.relativize(f)) hidden |= part.toString().startsWith(".");
        return name.endsWith(".json")
                && !hidden
                && Files.isRegularFile(f)
                && !Files.isRegularFile(f.resolveSibling("config.json"));
    }
}
