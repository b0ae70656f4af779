package slim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import slim.nn.SlimException;

class SplitTest {
    static final Dataset TREC = Datasets.load(Shared.datasets(), Task.TREC);

    @Test
    void studySplitIsDisjointWithOneDemonstrationPerClass() {
        for (int seed : Split.STUDY_SEEDS) {
            Split s = Split.study(TREC, seed);
            assertEquals(6, s.demonstrations().size());
            assertEquals(
                    Set.of(0, 1, 2, 3, 4, 5),
                    new HashSet<>(
                            s.demonstrations().stream().map(Example::label).toList()));
            assertEquals(200, s.train().size());
            assertEquals(1000, s.val().size());
            assertEquals(500, s.test().size(), "TREC's test set has 500 rows: all of them");
            Set<Integer> rows = new HashSet<>();
            for (List<Example> part : List.of(s.demonstrations(), s.train(), s.val())) {
                for (Example e : part) assertTrue(rows.add(e.row()), "row " + e.row() + " used twice");
            }
        }
    }

    @Test
    void sameSeedSameRowsOtherSeedOtherRows() {
        Split a = Split.study(TREC, 42), b = Split.study(TREC, 42), c = Split.study(TREC, 421);
        for (String part : a.rows().keySet())
            assertArrayEquals(a.rows().get(part), b.rows().get(part), part);
        assertFalse(Arrays.equals(a.rows().get("train"), c.rows().get("train")));
    }

    @Test
    void rowsArePinnedAcrossMachines() {
        // java.util.Random is specified bit for bit, so these rows are the same on every JDK
        Split s = Split.study(TREC, 42);
        assertArrayEquals(PINNED_DEMOS, s.rows().get("demonstrations"));
        assertArrayEquals(PINNED_TRAIN_START, Arrays.copyOf(s.rows().get("train"), 5));
    }

    static final int[] PINNED_DEMOS = {4335, 252, 1929, 4407, 4049, 560};
    static final int[] PINNED_TRAIN_START = {1551, 2593, 4597, 4745, 5391};

    @Test
    void largeTestSetIsSampled() {
        Dataset sst2 = new Dataset(Task.SST2, synthetic(300), synthetic(50), Path.of("train"), Path.of("test"));
        Split s = Split.make(sst2, 0, 20, 30, 10);
        assertEquals(10, s.test().size());
        assertEquals(10, new HashSet<>(s.test()).size());
        assertEquals(50, Split.make(sst2, 0, 20, 30, 100).test().size());
    }

    @Test
    void tooFewRowsOrAMissingClassFail() {
        Dataset small = new Dataset(Task.SST2, synthetic(10), synthetic(5), Path.of("train.csv"), Path.of("test.csv"));
        assertTrue(assertThrows(SlimException.class, () -> Split.make(small, 0, 8, 8, 5))
                .getMessage()
                .contains("train.csv: 10 rows"));
        List<Example> oneClass = synthetic(40).stream()
                .map(e -> new Example(e.text(), 0, e.row()))
                .toList();
        Dataset missing = new Dataset(Task.SST2, oneClass, synthetic(5), Path.of("train.csv"), Path.of("test.csv"));
        assertTrue(assertThrows(SlimException.class, () -> Split.make(missing, 0, 5, 5, 5))
                .getMessage()
                .contains("no example of class positive"));
    }

    static List<Example> synthetic(int n) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new Example("text " + i, i % 2, i));
        return out;
    }
}
