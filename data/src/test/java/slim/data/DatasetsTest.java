package slim.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;

class DatasetsTest {
    static final Map<Task, int[]> SIZES = Map.of(
            Task.AGNEWS,
            new int[] {6913, 7600},
            Task.EMOCONTEXT,
            new int[] {30160, 5509},
            Task.SST2,
            new int[] {67349, 872},
            Task.TREC,
            new int[] {5452, 500});
    static final Map<Task, Dataset> NORMALIZED = new EnumMap<>(Task.class);

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadNormalized() {
        for (Task t : Task.values()) NORMALIZED.put(t, Datasets.load(Shared.datasets(), t));
    }

    @Test
    void normalizedLayoutHasEveryRow() {
        for (Task t : Task.values()) {
            Dataset d = NORMALIZED.get(t);
            assertEquals(SIZES.get(t)[0], d.train().size(), t + " train");
            assertEquals(SIZES.get(t)[1], d.test().size(), t + " test");
            assertEquals(7, d.train().get(7).row());
        }
        Example first = NORMALIZED.get(Task.SST2).train().getFirst();
        assertEquals("hide new secretions from the parental units", first.text());
        assertEquals(0, first.label());
        assertEquals(
                Task.TREC.labelIndex("DESC"),
                NORMALIZED.get(Task.TREC).train().getFirst().label());
    }

    private Path copy(Path from, String to) throws IOException {
        Path target = tmp.resolve(to);
        Files.createDirectories(target.getParent());
        return Files.copy(from, target);
    }

    /** The original files copied into tmp load as exactly the normalized CSVs. */
    private void assertLoadsAsNormalized(Task task) {
        Dataset d = Datasets.load(tmp, task);
        assertSame(NORMALIZED.get(task).train(), d.train());
        assertSame(NORMALIZED.get(task).test(), d.test());
    }

    private static void assertSame(List<Example> expected, List<Example> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) assertEquals(expected.get(i), actual.get(i), "row " + i);
    }

    @Test
    void glueSst2EqualsNormalized() throws IOException {
        Path raw = Shared.datasets().resolve("sst2/raw");
        copy(raw.resolve("train_full.tsv"), "SST-2/train.tsv");
        copy(raw.resolve("dev.tsv"), "SST-2/dev.tsv");
        assertLoadsAsNormalized(Task.SST2);
    }

    @Test
    void trecLabelFilesEqualNormalizedAndTolerateLatin1() throws IOException {
        Path raw = Shared.datasets().resolve("trec/raw");
        // the original has one latin-1 byte (0xF0) where this copy has U+FFFD: put the byte back
        String train = Files.readString(raw.resolve("train.txt"), StandardCharsets.UTF_8);
        assertTrue(train.contains("\uFFFD"));
        byte[] utf8 = train.getBytes(StandardCharsets.UTF_8);
        byte[] replacement = "\uFFFD".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(utf8, replacement);
        byte[] latin = new byte[utf8.length - replacement.length + 1];
        System.arraycopy(utf8, 0, latin, 0, at);
        latin[at] = (byte) 0xF0;
        System.arraycopy(utf8, at + replacement.length, latin, at + 1, utf8.length - at - replacement.length);
        Files.createDirectories(tmp.resolve("trec"));
        Files.write(tmp.resolve("trec/train_5500.label"), latin);
        copy(raw.resolve("test.txt"), "trec/TREC_10.label");
        assertLoadsAsNormalized(Task.TREC);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    @Test
    void emoContextTextFilesEqualNormalized() throws IOException {
        Path raw = Shared.datasets().resolve("emocontext/raw");
        copy(raw.resolve("train.txt"), "emocontext/train.txt");
        copy(raw.resolve("test.txt"), "emocontext/test.txt");
        assertLoadsAsNormalized(Task.EMOCONTEXT);
    }

    @Test
    void agNewsOriginalCsvEqualsNormalized() throws IOException {
        Path raw = Shared.datasets().resolve("agnews/raw");
        copy(raw.resolve("amrayach_PML_train_first2000.csv"), "ag_news_csv/train.csv");
        copy(raw.resolve("test.csv"), "ag_news_csv/test.csv");
        Dataset d = Datasets.load(tmp, Task.AGNEWS);
        assertSame(NORMALIZED.get(Task.AGNEWS).train().subList(0, 2000), d.train());
        assertSame(NORMALIZED.get(Task.AGNEWS).test(), d.test());
    }

    private SlimException fails(Task task) {
        return assertThrows(SlimException.class, () -> Datasets.load(tmp, task));
    }

    private void write(String name, String content) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    @Test
    void noDataSaysWhatWasExpected() {
        String m = fails(Task.SST2).getMessage();
        assertTrue(m.contains("sst2/train.csv") && m.contains("SST-2/train.tsv"), m);
        assertTrue(assertThrows(SlimException.class, () -> Datasets.load(tmp.resolve("absent"), Task.SST2))
                .getMessage()
                .contains("does not exist"));
    }

    @Test
    void missingFileIsNamed() throws IOException {
        write("trec/train.csv", "label,text\nHUM,Who ?\n");
        assertTrue(fails(Task.TREC).getMessage().contains("missing file " + tmp.resolve("trec/test.csv")));
    }

    private void normalized(String task, String train) throws IOException {
        write(task + "/train.csv", train);
        write(task + "/test.csv", "label,text\nHUM,Who ?\n");
    }

    private void assertError(Task task, String file, int line, String problem) {
        String m = fails(task).getMessage();
        assertTrue(m.startsWith(tmp.resolve(file) + ":" + line + ": ") && m.contains(problem), m);
    }

    @Test
    void normalizedCsvErrorsNameFileAndLine() throws IOException {
        normalized("trec", "lable,text\nHUM,Who ?\n");
        assertError(Task.TREC, "trec/train.csv", 1, "header must start with label,text");
        normalized("trec", "label,text,fine\nHUM,Who ?,ind\nCAT,What ?,x\n");
        assertError(Task.TREC, "trec/train.csv", 3, "unknown trec label 'CAT'");
        normalized("trec", "label,text,fine\nHUM,Who ?,ind\nHUM,\"\",ind\n");
        assertError(Task.TREC, "trec/train.csv", 3, "empty text");
        normalized("trec", "label,text,fine\r\nHUM,\"Who\r\n?\",ind\r\nHUM,What ?\r\n");
        assertError(Task.TREC, "trec/train.csv", 4, "ragged row");
    }

    @Test
    void originalFormatErrorsNameFileAndLine() throws IOException {
        write("SST-2/train.tsv", "sentence\tlabel\ngood\t1\nbad\t2\n");
        write("SST-2/dev.tsv", "sentence\tlabel\ngood\t1\n");
        assertError(Task.SST2, "SST-2/train.tsv", 3, "unknown sst2 label '2'");
        write("SST-2/train.tsv", "sentence\tlabel\ngood 1\n");
        assertError(Task.SST2, "SST-2/train.tsv", 2, "ragged row");
        write("SST-2/train.tsv", "text\tlabel\ngood\t1\n");
        assertError(Task.SST2, "SST-2/train.tsv", 1, "header must be sentence<TAB>label");

        write("ag_news_csv/train.csv", "\"3\",\"t\",\"d\"\n\"5\",\"t\",\"d\"\n");
        write("ag_news_csv/test.csv", "\"3\",\"t\",\"d\"\n");
        assertError(Task.AGNEWS, "ag_news_csv/train.csv", 2, "unknown agnews class index '5'");
        write("ag_news_csv/train.csv", "\"3\",\"t\",\"d\"\n\"1\",\"t\"\n");
        assertError(Task.AGNEWS, "ag_news_csv/train.csv", 2, "ragged row");

        write("trec/train_5500.label", "HUM:ind Who ?\nXYZ:ind Who ?\n");
        write("trec/TREC_10.label", "HUM:ind Who ?\n");
        assertError(Task.TREC, "trec/train_5500.label", 2, "unknown trec label 'XYZ'");
        write("trec/train_5500.label", "HUM:ind Who ?\nHUM:ind  \n");
        assertError(Task.TREC, "trec/train_5500.label", 2, "empty text");

        write("emocontext/train.txt", "id\tturn1\tturn2\tturn3\tlabel\n0\ta\tb\tc\thappy\n1\ta\tb\tc\n");
        write("emocontext/test.txt", "0\ta\tb\tc\tsad\n");
        assertError(Task.EMOCONTEXT, "emocontext/train.txt", 3, "ragged row");
        write("emocontext/train.txt", "0\ta\tb\tc\tjoyful\n");
        assertError(Task.EMOCONTEXT, "emocontext/train.txt", 1, "unknown emocontext label 'joyful'");
    }

    @Test
    void emoContextJoinsTurns() throws IOException {
        write("emocontext/train.txt", "id\tturn1\tturn2\tturn3\tlabel\r\n0\t hi \tyo\tbye\thappy\r\n");
        write("emocontext/test.txt", "0\ta\tb\tc\tsad\r\n");
        Dataset d = Datasets.load(tmp, Task.EMOCONTEXT);
        assertEquals(new Example("hi | yo | bye", 1, 0), d.train().getFirst());
        assertEquals(2, d.test().getFirst().label());
    }

    @Test
    void parsesNamesWithAClearError() {
        assertEquals(Task.SST2, Task.parse("sst2"));
        assertEquals(Setting.CLS_PLAIN, Setting.parse("cls-plain"));
        String m = assertThrows(IllegalArgumentException.class, () -> Task.parse("imdb"))
                .getMessage();
        assertTrue(m.contains("agnews, emocontext, sst2, trec"), m);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Setting.parse("x"))
                .getMessage()
                .contains("lm-prompt, cls-prompt, cls-plain"));
    }
}
