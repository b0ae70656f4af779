package slim.experiments;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        return dir.resolve(cell.id() + ".json");
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
                throw new SlimException(predictions + ": cannot remove the predictions of an earlier run: " + e.getMessage(), e);
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

    public static Result read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Result.class);
        } catch (IOException e) {
            throw new SlimException(file + ": not a slim result file: " + e.getMessage(), e);
        }
    }

    /** Every result file in dir and its sub-folders (hidden temporary files skipped), in name order. */
    public static List<Result> readAll(Path dir) {
        if (!Files.isDirectory(dir)) throw new SlimException(dir + ": no such folder of results");
        List<Result> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(ResultFiles::isResultFile).sorted().toList()) out.add(read(f));
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list: " + e.getMessage(), e);
        }
        return out;
    }

    private static boolean isResultFile(Path f) {
        String name = f.getFileName().toString();
        return name.endsWith(".json") && !name.startsWith(".") && Files.isRegularFile(f) && looksLikeResult(f);
    }

    /** Reports may be pointed at folders holding other JSON (a saved model's config); only results count. */
    private static boolean looksLikeResult(Path f) {
        try {
            return JSON.readTree(f.toFile()).has("status");
        } catch (IOException e) {
            return false;
        }
    }
}
