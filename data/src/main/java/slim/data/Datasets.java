package slim.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import slim.nn.SlimException;

/**
 * Reads a task's train and test sets from a data folder, in the normalized layout
 * ({@code <task>/train.csv}, {@code <task>/test.csv}, header {@code label,text,...}) or in the format
 * each dataset is distributed in: GLUE {@code SST-2/train.tsv} + {@code dev.tsv}, AG News
 * {@code train.csv} + {@code test.csv} (class index 1-4, title, description), TREC
 * {@code train_5500.label} + {@code TREC_10.label}, EmoContext {@code train.txt} + {@code test.txt}.
 * The first layout whose two files exist wins; a half-present layout or none at all is an error that
 * says what was expected.
 */
public final class Datasets {
    /** Environment variable naming the data folder when --data is not given. */
    public static final String DATA_ENV = "SLIM_DATA";

    private Datasets() {}

    /** $SLIM_DATA, else $XDG_CACHE_HOME/slim/datasets, else ~/.cache/slim/datasets. */
    public static Path defaultDir() {
        String env = System.getenv(DATA_ENV);
        if (env != null && !env.isBlank()) return Path.of(env);
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base =
                cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("slim").resolve("datasets");
    }

    private interface FileReader {
        List<Example> read(Path file, Task task);
    }

    /** One way a task's two files can lie in a folder. */
    private record Layout(String name, String train, String test, FileReader reader) {}

    private static List<Layout> layouts(Task task) {
        String t = task.id();
        List<Layout> l = new ArrayList<>();
        switch (task) {
            case SST2 -> {
                l.add(new Layout("normalized", t + "/train.csv", t + "/test.csv", Datasets::readNormalized));
                l.add(new Layout("GLUE", "SST-2/train.tsv", "SST-2/dev.tsv", Datasets::readGlue));
                l.add(new Layout("GLUE", "train.tsv", "dev.tsv", Datasets::readGlue));
            }
            case AGNEWS -> {
                l.add(new Layout(
                        "normalized or original AG News", t + "/train.csv", t + "/test.csv", Datasets::readAgNewsAny));
                l.add(new Layout(
                        "original AG News", "ag_news_csv/train.csv", "ag_news_csv/test.csv", Datasets::readAgNewsAny));
                l.add(new Layout("normalized or original AG News", "train.csv", "test.csv", Datasets::readAgNewsAny));
            }
            case TREC -> {
                l.add(new Layout("normalized", t + "/train.csv", t + "/test.csv", Datasets::readNormalized));
                l.add(new Layout("TREC", t + "/train_5500.label", t + "/TREC_10.label", Datasets::readTrec));
                l.add(new Layout("TREC", "train_5500.label", "TREC_10.label", Datasets::readTrec));
            }
            case EMOCONTEXT -> {
                l.add(new Layout("normalized", t + "/train.csv", t + "/test.csv", Datasets::readNormalized));
                l.add(new Layout("EmoContext", t + "/train.txt", t + "/test.txt", Datasets::readEmoContext));
                l.add(new Layout("EmoContext", "train.txt", "test.txt", Datasets::readEmoContext));
            }
        }
        if (task != Task.AGNEWS) l.add(new Layout("normalized", "train.csv", "test.csv", Datasets::readNormalized));
        return l;
    }

    public static Dataset load(Path dataDir, Task task) {
        if (!Files.isDirectory(dataDir)) {
            throw new SlimException("data folder " + dataDir + " does not exist (give --data DIR, set " + DATA_ENV
                    + ", or run `slim data fetch`)");
        }
        List<Layout> layouts = layouts(task);
        for (Layout layout : layouts) {
            Path train = dataDir.resolve(layout.train);
            Path test = dataDir.resolve(layout.test);
            boolean hasTrain = Files.isRegularFile(train);
            boolean hasTest = Files.isRegularFile(test);
            if (hasTrain != hasTest) {
                throw new SlimException("missing file " + (hasTrain ? test : train) + ": the " + layout.name
                        + " layout needs both " + layout.train + " and " + layout.test);
            }
            if (hasTrain) {
                return new Dataset(task, layout.reader.read(train, task), layout.reader.read(test, task), train, test);
            }
        }
        throw new SlimException("no " + task.id() + " data in " + dataDir + ": expected one of "
                + layouts.stream()
                        .map(l -> l.train + " + " + l.test + " (" + l.name + ")")
                        .collect(Collectors.joining(", "))
                + "; `slim data fetch` writes the normalized layout");
    }

    static SlimException error(Path file, long line, String problem) {
        return new SlimException(file + ":" + line + ": " + problem);
    }

    private static int label(Path file, long line, Task task, String name) {
        int index = task.labelIndex(name);
        if (index < 0) {
            throw error(
                    file,
                    line,
                    "unknown " + task.id() + " label '" + name + "' (expected one of "
                            + String.join(", ", task.labels()) + ")");
        }
        return index;
    }

    private static String text(Path file, long line, String text) {
        if (text.isBlank()) throw error(file, line, "empty text");
        return text;
    }

    private static CSVParser csv(Path file) throws IOException {
        Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        return CSVParser.builder().setReader(in).setFormat(CSVFormat.DEFAULT).get();
    }

    /** The normalized layout: UTF-8 CSV with header label,text and any further columns. */
    static List<Example> readNormalized(Path file, Task task) {
        List<Example> out = new ArrayList<>();
        try (CSVParser parser = csv(file)) {
            long line = 1;
            int columns = -1;
            for (CSVRecord r : parser) {
                if (columns < 0) {
                    if (r.size() < 2
                            || !r.get(0).strip().replace("\uFEFF", "").equals("label")
                            || !r.get(1).strip().equals("text")) {
                        throw error(
                                file, line, "header must start with label,text; found " + String.join(",", r.toList()));
                    }
                    columns = r.size();
                } else {
                    if (r.size() != columns)
                        throw error(file, line, "ragged row: " + r.size() + " fields, header has " + columns);
                    out.add(new Example(text(file, line, r.get(1)), label(file, line, task, r.get(0)), out.size()));
                }
                line = parser.getCurrentLineNumber() + 1;
            }
        } catch (IOException | UncheckedIOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage());
        }
        return requireRows(out, file);
    }

    private static List<Example> requireRows(List<Example> rows, Path file) {
        if (rows.isEmpty()) throw new SlimException(file + ": no rows");
        return rows;
    }

    private static final String[] AG_LABELS = {"World", "Sports", "Business", "Sci/Tech"};

    /** AG News: the normalized file (header label,text) or the original (no header: class 1-4, title, description). */
    static List<Example> readAgNewsAny(Path file, Task task) {
        String first;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            first = in.readLine();
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage());
        }
        if (first != null && first.matches("^\"?[1-4]\"?,.*")) return readAgNewsOriginal(file, task);
        return readNormalized(file, task);
    }

    static List<Example> readAgNewsOriginal(Path file, Task task) {
        List<Example> out = new ArrayList<>();
        try (CSVParser parser = csv(file)) {
            long line = 1;
            for (CSVRecord r : parser) {
                if (r.size() != 3)
                    throw error(
                            file,
                            line,
                            "ragged row: " + r.size() + " fields, expected 3 (class index, title, description)");
                String index = r.get(0).strip();
                if (!index.matches("[1-4]"))
                    throw error(file, line, "unknown agnews class index '" + index + "' (expected 1-4)");
                String text = r.get(1) + " " + r.get(2);
                out.add(new Example(
                        text(file, line, text), label(file, line, task, AG_LABELS[index.charAt(0) - '1']), out.size()));
                line = parser.getCurrentLineNumber() + 1;
            }
        } catch (IOException | UncheckedIOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage());
        }
        return requireRows(out, file);
    }

    /** Lines of a text file; bytes that are not UTF-8 (TREC's one latin-1 byte) become U+FFFD. */
    private static List<String> lines(Path file) {
        try {
            var decoder = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
            String all =
                    decoder.decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
            return List.of(all.split("\r?\n", -1));
        } catch (CharacterCodingException e) {
            throw new SlimException(file + ": cannot decode: " + e.getMessage());
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** GLUE SST-2: header "sentence\tlabel", then sentence TAB 0|1. */
    static List<Example> readGlue(Path file, Task task) {
        List<String> lines = lines(file);
        if (!lines.getFirst().strip().equals("sentence\tlabel")) {
            throw error(file, 1, "header must be sentence<TAB>label; found " + lines.getFirst());
        }
        List<Example> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String ln = lines.get(i);
            if (ln.isEmpty()) continue;
            int tab = ln.lastIndexOf('\t');
            if (tab < 0 || ln.indexOf('\t') != tab) throw error(file, i + 1, "ragged row: expected sentence<TAB>label");
            String value = ln.substring(tab + 1).strip();
            int label = switch (value) {
                case "0" -> 0;
                case "1" -> 1;
                default -> throw error(file, i + 1, "unknown sst2 label '" + value + "' (expected 0 or 1)");
            };
            out.add(new Example(text(file, i + 1, ln.substring(0, tab).strip()), label, out.size()));
        }
        return requireRows(out, file);
    }

    /** TREC: "COARSE:fine question"; a byte that is not UTF-8 becomes a space, as the HF loader does. */
    static List<Example> readTrec(Path file, Task task) {
        List<String> lines = lines(file);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String ln = lines.get(i);
            if (ln.isBlank()) continue;
            int space = ln.indexOf(' ');
            int colon = ln.indexOf(':');
            if (space < 0 || colon < 0 || colon > space) throw error(file, i + 1, "expected COARSE:fine question");
            String text = ln.substring(space + 1).replace('\uFFFD', ' ').strip();
            out.add(new Example(text(file, i + 1, text), label(file, i + 1, task, ln.substring(0, colon)), out.size()));
        }
        return requireRows(out, file);
    }

    /**
     * EmoContext: id TAB turn1 TAB turn2 TAB turn3 TAB label (a header line "id..." is skipped); the turns are
     * joined with " | ".
     */
    static List<Example> readEmoContext(Path file, Task task) {
        List<String> lines = lines(file);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String ln = lines.get(i);
            if (ln.isEmpty()) continue;
            String[] f = ln.split("\t", -1);
            if (i == 0 && f[0].equals("id")) continue;
            if (f.length != 5)
                throw error(
                        file,
                        i + 1,
                        "ragged row: " + f.length + " fields, expected 5 (id, turn1, turn2, turn3, label)");
            String text = f[1].strip() + " | " + f[2].strip() + " | " + f[3].strip();
            if (f[1].isBlank() && f[2].isBlank() && f[3].isBlank()) text = "";
            out.add(new Example(text(file, i + 1, text), label(file, i + 1, task, f[4].strip()), out.size()));
        }
        return requireRows(out, file);
    }
}
