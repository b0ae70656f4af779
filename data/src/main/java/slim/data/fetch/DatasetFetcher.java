package slim.data.fetch;

import dev.hardwood.InputFile;
import dev.hardwood.reader.ParquetFileReader;
import dev.hardwood.reader.RowReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import slim.data.Task;
import slim.nn.SlimException;

/**
 * Fetches the four datasets from the hub's data files and writes the normalized layout
 * ({@code <task>/train.csv}, {@code <task>/test.csv}, header {@code label,text}); the downloaded
 * parquet files stay in {@code <task>/raw/}.
 *
 * <p>Sources, as the hub serves them: fancyzhx/ag_news and nyu-mll/glue (config sst2, whose
 * validation split is the test set, as GLUE's test has no labels) keep parquet files on their main
 * branch; for CogComp/trec and SemEvalWorkshop/emo (config emo2019) the main-branch path is tried
 * first and then the parquet copy the hub's converter keeps on refs/convert/parquet. In every source
 * the label is a class index in the order of {@link Task#labels()} (TREC's coarse_label included).
 * The hub's emo text is its own preprocessing of the dialogue (lower case, turns joined by spaces),
 * not the " | "-joined turns of the original files.
 */
public final class DatasetFetcher {

    /** Where one split of a task lives: candidate (revision, path) pairs, tried in order. */
    record Source(String repo, String textColumn, String labelColumn, List<String[]> train, List<String[]> test) {}

    static Source source(Task task) {
        return switch (task) {
            case AGNEWS ->
                new Source(
                        "fancyzhx/ag_news",
                        "text",
                        "label",
                        List.<String[]>of(new String[] {"main", "data/train-00000-of-00001.parquet"}),
                        List.<String[]>of(new String[] {"main", "data/test-00000-of-00001.parquet"}));
            case SST2 ->
                new Source(
                        "nyu-mll/glue",
                        "sentence",
                        "label",
                        List.<String[]>of(new String[] {"main", "sst2/train-00000-of-00001.parquet"}),
                        List.<String[]>of(new String[] {"main", "sst2/validation-00000-of-00001.parquet"}));
            case TREC ->
                new Source(
                        "CogComp/trec",
                        "text",
                        "coarse_label",
                        List.of(
                                new String[] {"main", "data/train-00000-of-00001.parquet"},
                                new String[] {"refs/convert/parquet", "default/train/0000.parquet"}),
                        List.of(
                                new String[] {"main", "data/test-00000-of-00001.parquet"},
                                new String[] {"refs/convert/parquet", "default/test/0000.parquet"}));
            case EMOCONTEXT ->
                new Source(
                        "SemEvalWorkshop/emo",
                        "text",
                        "label",
                        List.of(
                                new String[] {"main", "emo2019/train-00000-of-00001.parquet"},
                                new String[] {"refs/convert/parquet", "emo2019/train/0000.parquet"}),
                        List.of(
                                new String[] {"main", "emo2019/test-00000-of-00001.parquet"},
                                new String[] {"refs/convert/parquet", "emo2019/test/0000.parquet"}));
        };
    }

    private final Hub hub;
    private final Downloader downloader;

    public DatasetFetcher(Hub hub, Downloader downloader) {
        this.hub = hub;
        this.downloader = downloader;
    }

    /** Fetches and normalizes one task into dataDir/<task>/. */
    public void fetch(Task task, Path dataDir) {
        Source source = source(task);
        Path dir = dataDir.resolve(task.id());
        for (String split : List.of("train", "test")) {
            Path parquet = download(
                    source,
                    split.equals("train") ? source.train : source.test,
                    dir.resolve("raw").resolve(split + ".parquet"));
            writeCsv(readParquet(parquet, source, task), dir.resolve(split + ".csv"));
        }
    }

    private Path download(Source source, List<String[]> candidates, Path target) {
        List<String> tried = new ArrayList<>();
        for (String[] c : candidates) {
            try {
                return downloader.fetch(hub.datasetFile(source.repo, c[0], c[1]), target);
            } catch (Downloader.NotFound e) {
                tried.add(hub.datasetFile(source.repo, c[0], c[1]).toString());
            }
        }
        throw new SlimException(source.repo + ": the hub has none of " + String.join(", ", tried));
    }

    /** The rows of a parquet file as (label name, text) pairs. */
    static List<String[]> readParquet(Path file, Source source, Task task) {
        List<String[]> rows = new ArrayList<>();
        try (ParquetFileReader reader = ParquetFileReader.open(InputFile.of(file))) {
            for (String column : List.of(source.textColumn, source.labelColumn)) {
                if (reader.getFileSchema().getColumns().stream()
                        .noneMatch(c -> c.name().equals(column))) {
                    throw new SlimException(file + ": no column '" + column + "' (has "
                            + reader.getFileSchema().getColumns().stream()
                                    .map(c -> c.name())
                                    .toList() + ")");
                }
            }
            try (RowReader row = reader.rowReader()) {
                while (row.hasNext()) {
                    row.next();
                    long index = ((Number) row.getValue(source.labelColumn)).longValue();
                    if (index < 0 || index >= task.numLabels()) {
                        throw new SlimException(file + ": row " + rows.size() + ": label index " + index + " is not a "
                                + task.id() + " class (0-" + (task.numLabels() - 1) + ")");
                    }
                    String text = row.getString(source.textColumn);
                    if (text == null || text.isBlank()) {
                        throw new SlimException(file + ": row " + rows.size() + ": empty text");
                    }
                    rows.add(new String[] {task.labels().get((int) index), text.strip()});
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof SlimException s) throw s;
            throw new SlimException(file + ": not a readable parquet file: " + e.getMessage(), e);
        }
        if (rows.isEmpty()) throw new SlimException(file + ": no rows");
        return rows;
    }

    /** RFC 4180 CSV with header label,text, written aside and moved into place whole. */
    static void writeCsv(List<String[]> rows, Path target) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            try (Writer out = Files.newBufferedWriter(part, StandardCharsets.UTF_8);
                    CSVPrinter csv = new CSVPrinter(out, CSVFormat.RFC4180)) {
                csv.printRecord("label", "text");
                for (String[] r : rows) csv.printRecord((Object[]) r);
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new SlimException(target + ": cannot write: " + e.getMessage());
        }
    }
}
