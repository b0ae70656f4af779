package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.model.Pooling;

/** What the progress of a grid's cell writes on a terminal and in a log. */
class ProgressBarTest {
    static final Cell CELL = new Cell(Path.of("m"), 1, Task.SST2, Setting.CLS_PLAIN, 0, Pooling.LAST);

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A cell that trains two steps, validates two examples, then tests two. */
    private void runCell(ProgressBar bar) {
        CellProgress p = new CellProgress(bar, CELL, 1, 3, System.nanoTime() - 10_000_000_000L, 2);
        p.step(1, 1, 2);
        p.step(1, 2, 2);
        p.evaluating("validation", 1, 2);
        p.epoch(1, 0.7, 0.5, 0.5);
        p.evaluating("test", 1, 2);
    }

    @Test
    void aLogGetsWholeLinesWithTheGridsEtaAndEveryPass() {
        runCell(new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 0));
        String log = text();
        assertFalse(log.contains("\r"), log);
        // one grid cell took 10 s, so the two left take about 20 s less what this one has run
        assertTrue(
                log.contains("grid 1/3 [########............] ETA 20s | m k=1 sst2 cls-plain seed 0 | epoch 1/2 "
                        + "[########.......] 1/2 ETA"),
                log);
        assertTrue(log.contains("| epoch 1/2 validation [########.......] 1/2 ETA"), log);
        assertTrue(log.contains("m k=1 sst2 cls-plain seed 0: epoch 1/2, loss 0.700 val 0.500 (best 0.500)\n"), log);
        assertTrue(log.contains("| test [########.......] 1/2 ETA"), log);
        assertEquals(5, log.lines().count(), log);
    }

    @Test
    void aTerminalGetsOneLineRedrawnInPlace() {
        runCell(new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 0));
        String shown = text();
        assertFalse(shown.contains("\n"), shown);
        assertTrue(shown.startsWith("\rgrid 1/3 "), shown);
        assertTrue(
                shown.contains("\rgrid 1/3 [##########..........] ETA 20s | m k=1 sst2 cls-plain seed 0 | epoch 1/2 "
                        + "[###############] 2/2 ETA 0s"),
                shown);
    }

    @Test
    void aLogIsWrittenOnlyEveryInterval() {
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 60_000_000_000L);
        for (int i = 0; i < 100; i++) bar.show("line " + i, true);
        assertEquals("", text());
        bar.log("kept");
        assertEquals("kept\n", text());
    }
}
