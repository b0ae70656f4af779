package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.Shared;
import slim.nn.SlimException;

/** Resume and sharding, with a runner that records the cells it is asked to train. */
class GridTest {
    static final Path LLAMA = Shared.resolve("golden", "llama-tiny");
    static final Protocol P = Protocol.study();

    @TempDir
    Path out;

    static List<Cell> cells() {
        return Experiment.crossProduct(
                List.of(LLAMA),
                List.of(1, 2, 3),
                List.of(Task.SST2, Task.TREC),
                List.of(Setting.values()),
                List.of(0, 42),
                null);
    }

    /** Records every cell it runs; throws (like a kill) when asked to run cell number killAt. */
    static final class Recorder implements Grid.Runner {
        final List<String> ran = new ArrayList<>();
        final int killAt;

        Recorder(int killAt) {
            this.killAt = killAt;
        }

        @Override
        public Result run(Cell cell, Trainer.Listener listener) {
            if (ran.size() == killAt) throw new IllegalStateException("killed");
            ran.add(cell.id());
            return Synthetic.of(cell);
        }
    }

    @Test
    void aKilledGridResumesWithoutRedoingFinishedCells() throws Exception {
        List<Cell> cells = cells();
        assertEquals(36, cells.size());
        Grid grid = new Grid(out, ProgressBar.none(), false, Synthetic::origin);
        Recorder first = new Recorder(10);
        assertThrows(IllegalStateException.class, () -> grid.run(cells, Grid.Shard.ALL, P, first));
        assertEquals(10, first.ran.size());
        // the kill also leaves the hidden temporary file of a result being written
        Files.writeString(out.resolve("." + cells.get(10).id() + ".json.tmp-1"), "{\"stat");

        Recorder second = new Recorder(-1);
        Grid.Counts s = grid.run(cells, Grid.Shard.ALL, P, second);
        assertEquals(26, second.ran.size(), "only the cells without a result run");
        Set<String> overlap = new HashSet<>(first.ran);
        overlap.retainAll(second.ran);
        assertTrue(overlap.isEmpty(), "finished cells ran again: " + overlap);
        assertEquals(10, s.alreadyDone());
        assertEquals(36, ResultFiles.readAll(out).size());

        Recorder third = new Recorder(-1);
        assertEquals(0, grid.run(cells, Grid.Shard.ALL, P, third).ran());
        assertTrue(third.ran.isEmpty());
    }

    @Test
    void shardsPartitionTheCells() {
        List<Cell> cells = cells();
        for (int n : new int[] {1, 2, 3, 5, 7}) {
            Set<String> seen = new HashSet<>();
            int total = 0;
            for (int i = 0; i < n; i++) {
                List<Cell> shard = Shards.equal(cells, n).cells(new Grid.Shard(i, n));
                assertTrue(Math.abs(shard.size() - cells.size() / (double) n) < 1, "shards are balanced");
                for (Cell c : shard) assertTrue(seen.add(c.id()), c.id() + " is in two shards of " + n);
                total += shard.size();
            }
            assertEquals(cells.size(), total);
        }
    }

    @Test
    void shardsRunIntoOneFolderEachCellOnce() {
        List<Cell> cells = cells();
        Grid grid = new Grid(out, ProgressBar.none(), false, Synthetic::origin);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Recorder r = new Recorder(-1);
            grid.run(cells, new Grid.Shard(i, 3), P, r);
            all.addAll(r.ran);
        }
        assertEquals(36, all.size());
        assertEquals(36, new HashSet<>(all).size());
        assertEquals(0, grid.run(cells, Grid.Shard.ALL, P, new Recorder(-1)).ran());
    }

    @Test
    void twoProcessesOnOneFolderRunEachCellOnce() throws Exception {
        List<Cell> cells = cells();
        List<Recorder> recorders = List.of(new Recorder(-1), new Recorder(-1));
        List<Thread> runs = new ArrayList<>();
        List<Grid.Counts> summaries = Collections.synchronizedList(new ArrayList<>());
        for (Recorder r : recorders) {
            Grid.Runner slow = (cell, l) -> {
                try {
                    Thread.sleep(2); // long enough for the other run to reach the same cells
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return r.run(cell, l);
            };
            runs.add(Thread.ofPlatform()
                    .start(() -> summaries.add(new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                            .run(cells, Grid.Shard.ALL, P, slow))));
        }
        for (Thread t : runs) t.join();
        Set<String> all = new HashSet<>(recorders.get(0).ran);
        all.addAll(recorders.get(1).ran);
        assertEquals(36, recorders.get(0).ran.size() + recorders.get(1).ran.size(), "no cell ran twice");
        assertEquals(36, all.size());
        assertEquals(36, summaries.stream().mapToInt(Grid.Counts::ran).sum());
    }

    @Test
    void badShardsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Grid.Shard.parse("4/4"));
        assertThrows(IllegalArgumentException.class, () -> Grid.Shard.parse("-1/4"));
        assertThrows(IllegalArgumentException.class, () -> Grid.Shard.parse("1/0"));
        assertThrows(IllegalArgumentException.class, () -> Grid.Shard.parse("half"));
    }

    @Test
    void aCellThatRunsOutOfMemoryIsRecordedAsFailedAndTheGridGoesOn() {
        List<Cell> cells = cells().subList(0, 3);
        Recorder rest = new Recorder(-1);
        Grid.Runner runner = (cell, l) -> {
            if (cell.equals(cells.getFirst())) throw new OutOfMemoryError("Java heap space");
            return rest.run(cell, l);
        };
        Grid.Counts s =
                new Grid(out, ProgressBar.none(), false, Synthetic::origin).run(cells, Grid.Shard.ALL, P, runner);
        assertEquals(1, s.failed());
        assertEquals(List.of(cells.get(1).id(), cells.get(2).id()), rest.ran, "the cells after it ran");
        Result r = ResultFiles.read(ResultFiles.file(out, cells.getFirst()));
        assertFalse(r.ok());
        assertTrue(
                r.error().contains("ran out of memory (Java heap space)")
                        && r.error().contains("SLIM_HEAP"),
                r.error());
    }

    @Test
    void aCellThatFailsIsRecordedAndRetriedOnlyWhenAsked() {
        List<Cell> cells = cells().subList(0, 3);
        Grid.Runner failing = (cell, l) -> {
            throw new SlimException("no such data");
        };
        Grid.Counts s =
                new Grid(out, ProgressBar.none(), false, Synthetic::origin).run(cells, Grid.Shard.ALL, P, failing);
        assertEquals(3, s.failed());
        Result r = ResultFiles.read(ResultFiles.file(out, cells.getFirst()));
        assertFalse(r.ok());
        assertEquals("no such data", r.error());
        assertEquals(
                0,
                new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                        .run(cells, Grid.Shard.ALL, P, new Recorder(-1))
                        .ran());
        Recorder retry = new Recorder(-1);
        new Grid(out, ProgressBar.none(), true, Synthetic::origin).run(cells, Grid.Shard.ALL, P, retry);
        assertEquals(3, retry.ran.size());
    }

    /** A pid no process has now: one of a process that has exited. */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void leftoversOfKilledRunsAreCleanedAndALiveRunsAreLeftAlone() throws Exception {
        long dead = deadPid(), alive = ProcessHandle.current().pid();
        Files.writeString(out.resolve(".a.json.tmp-" + dead), "{\"stat");
        Files.createDirectories(out.resolve(".model.partial-" + dead));
        Files.writeString(out.resolve(".model.partial-" + dead).resolve("config.json"), "{}");
        Files.writeString(out.resolve(".b.json.tmp-" + alive), "{");
        Files.writeString(out.resolve(".c.json.tmp-" + dead), "{\"stat");
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofMinutes(5)));
        for (Path p : List.of(
                out.resolve(".a.json.tmp-" + dead),
                out.resolve(".model.partial-" + dead),
                out.resolve(".model.partial-" + dead).resolve("config.json"),
                out.resolve(".b.json.tmp-" + alive))) {
            Files.setLastModifiedTime(p, old);
        }
        new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                .run(cells().subList(0, 1), Grid.Shard.ALL, P, new Recorder(-1));
        assertFalse(Files.exists(out.resolve(".a.json.tmp-" + dead)));
        assertFalse(Files.exists(out.resolve(".model.partial-" + dead)));
        assertTrue(Files.exists(out.resolve(".b.json.tmp-" + alive)), "a live process's file is its own");
        assertTrue(
                Files.exists(out.resolve(".c.json.tmp-" + dead)), "a fresh file may be another host's, still writing");
    }

    @Test
    void aReRunCountsTheCellsThatFailedBefore() {
        List<Cell> cells = cells().subList(0, 3);
        Grid.Runner failOne = (cell, l) -> {
            if (cell.equals(cells.get(1))) throw new SlimException("bad data");
            return Synthetic.of(cell);
        };
        new Grid(out, ProgressBar.none(), false, Synthetic::origin).run(cells, Grid.Shard.ALL, P, failOne);
        Grid.Counts again = new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                .run(cells, Grid.Shard.ALL, P, new Recorder(-1));
        assertEquals(0, again.ran());
        assertEquals(1, again.failedBefore(), "the failed cell is reported, not hidden among the done ones");
    }

    @Test
    void resultsOfAnotherProtocolAreNotMixedIn() {
        List<Cell> cells = cells().subList(0, 2);
        new Grid(out, ProgressBar.none(), false, Synthetic::origin).run(cells, Grid.Shard.ALL, P, new Recorder(-1));
        SlimException e = assertThrows(
                SlimException.class,
                () -> new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                        .run(
                                cells,
                                Grid.Shard.ALL,
                                P.toBuilder().epochs(3).patience(3).build(),
                                new Recorder(-1)));
        assertTrue(
                e.getMessage()
                        .contains("another protocol (epochs 50 in the file, 3 now; patience 15 in the file, 3 now)"),
                e.getMessage());
    }

    /** A result from before results recorded their origin cannot be vouched for, so it is not counted as done. */
    @Test
    void aResultThatDoesNotSayWhatMadeItIsRefused() {
        List<Cell> cells = cells().subList(0, 1);
        Result r = Synthetic.of(cells.getFirst());
        ResultFiles.write(ResultFiles.file(out, cells.getFirst()), Synthetic.withOrigin(r, null));
        SlimException e = assertThrows(
                SlimException.class,
                () -> new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                        .run(cells, Grid.Shard.ALL, P, new Recorder(-1)));
        assertTrue(
                e.getMessage().contains("cannot be vouched for")
                        && e.getMessage().contains("new results folder"),
                e.getMessage());
    }

    /** The same cell from another model, or from another task's data, is refused by name. */
    @Test
    void aResultOfAnotherModelOrOtherDataIsRefused() {
        List<Cell> cells = cells().subList(0, 1);
        Grid.Runner runner = new Recorder(-1);
        new Grid(out, ProgressBar.none(), false, Synthetic::origin).run(cells, Grid.Shard.ALL, P, runner);
        Origin same = Synthetic.origin(cells.getFirst());
        Origin otherModel = new Origin("another-model", same.dataFiles());
        Origin otherData = Synthetic.origin("trec-elsewhere");
        for (Origin now : List.of(otherModel, otherData)) {
            SlimException e = assertThrows(
                    SlimException.class,
                    () -> new Grid(out, ProgressBar.none(), false, c -> now)
                            .run(cells, Grid.Shard.ALL, P, new Recorder(-1)));
            assertTrue(
                    e.getMessage().contains(now == otherModel ? "another model" : "other train data"), e.getMessage());
        }
    }
}
