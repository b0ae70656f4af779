package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;

/** `slim grid --status`: each cell's state read back from a results folder a grid left behind. */
class GridStatusTest {
    @TempDir
    Path out;

    final List<Cell> cells = GridTest.cells().subList(0, 6);

    /** Runs the grid's first three cells, as a grid stopped after them would; cell 1 fails. */
    void runTheFirstThree() {
        Grid.Runner runner = (cell, listener) -> {
            if (cell.equals(cells.get(1))) throw new SlimException("data/sst2/train.csv: line 7 has no label");
            return Synthetic.of(cell);
        };
        new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                .run(cells.subList(0, 3), Grid.Shard.ALL, GridTest.P, runner);
    }

    @Test
    void eachCellIsDoneFailedRunningOrMissingWithItsReason() throws Exception {
        runTheFirstThree();
        GridPlan.of("slim grid --models llama-tiny", cells).write(out);
        Files.writeString(ResultFiles.file(out, cells.get(5)), "{\"cell\":");
        try (CellClaims claims = CellClaims.in(out);
                CellClaims.Claim running = claims.claim(cells.get(4).id())) {
            assertNotNull(running, "nothing else runs the cell");
            GridStatus status = GridStatus.of(out, GridPlan.read(out));
            List<GridStatus.State> states =
                    status.cells().stream().map(GridStatus.CellState::state).toList();
            assertEquals(
                    List.of(
                            GridStatus.State.DONE,
                            GridStatus.State.FAILED,
                            GridStatus.State.DONE,
                            GridStatus.State.MISSING,
                            GridStatus.State.RUNNING,
                            GridStatus.State.MISSING),
                    states);
            assertEquals(
                    "data/sst2/train.csv: line 7 has no label",
                    status.cells().get(1).detail());
            assertTrue(
                    status.cells()
                            .get(4)
                            .detail()
                            .contains("pid " + ProcessHandle.current().pid()),
                    status.cells().get(4).detail());
            assertTrue(
                    status.cells().get(5).detail().contains("not a slim result file"),
                    status.cells().get(5).detail());

            String text = status.text(out);
            assertTrue(text.contains("slim grid --models llama-tiny --retry-failed"), text);
            assertTrue(text.contains("To run the 3 unfinished cells"), text);
            String row = text.lines()
                    .filter(l -> l.startsWith("llama-tiny") && l.contains("k=1"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(
                    List.of("llama-tiny", "k=1", "2", "1", "1", "2"),
                    List.of(row.trim().split("\\s+")),
                    text);
        }
    }

    @Test
    void aFinishedGridPointsToTheReport() {
        new Grid(out, ProgressBar.none(), false, Synthetic::origin)
                .run(cells, Grid.Shard.ALL, GridTest.P, (cell, listener) -> Synthetic.of(cell));
        GridPlan.of("slim grid --models llama-tiny", cells).write(out);
        GridStatus status = GridStatus.of(out, GridPlan.read(out));
        assertEquals(cells.size(), status.count(GridStatus.State.DONE));
        assertTrue(status.text(out).contains("Every cell is done: slim report " + out), status.text(out));
    }

    @Test
    void shardsOfOneGridShareAPlanAndAnotherGridAddsOne() {
        GridPlan.of("slim grid --shard 0/2", cells).write(out);
        GridPlan.of("slim grid --shard 1/2", cells).write(out);
        assertEquals(1, GridPlan.read(out).size());
        GridPlan.of("slim grid -k 3", cells.subList(0, 2)).write(out);
        assertEquals(2, GridPlan.read(out).size());
        assertEquals(
                cells.size(), GridStatus.of(out, GridPlan.read(out)).cells().size(), "a cell counts once");
    }

    @Test
    void aDamagedPlanIsNamed() throws Exception {
        GridPlan.of("slim grid", cells).write(out);
        try (var plans = Files.list(out.resolve(".slim"))) {
            Files.writeString(plans.findFirst().orElseThrow(), "[");
        }
        SlimException e = assertThrows(SlimException.class, () -> GridPlan.read(out));
        assertTrue(e.getMessage().contains(".slim/grid-") && e.getMessage().contains("damaged"), e.getMessage());
    }
}
