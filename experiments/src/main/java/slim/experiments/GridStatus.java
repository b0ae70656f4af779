package slim.experiments;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import slim.nn.SlimException;

/**
 * Where a grid stands ({@code slim grid --status OUT}): each planned cell is done, failed (with its error),
 * running (a live claim, with who runs it) or missing (no result, or a damaged one that a re-run replaces),
 * counted per model and kept layers, with the command that runs what is unfinished. It only reads the folder.
 */
public final class GridStatus {

    public enum State {
        DONE,
        FAILED,
        RUNNING,
        MISSING;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A cell's state and what explains it: the error, who runs it, or why its result does not count. */
    public record CellState(GridPlan.Entry cell, State state, String detail) {}

    private final List<GridPlan> plans;
    private final List<CellState> cells;

    private GridStatus(List<GridPlan> plans, List<CellState> cells) {
        this.plans = plans;
        this.cells = cells;
    }

    /** The state of every cell of the plans (a cell in two plans counts once). */
    public static GridStatus of(Path outDir, List<GridPlan> plans) {
        Map<String, String> running = CellClaims.running(outDir);
        Map<String, CellState> states = new LinkedHashMap<>();
        for (GridPlan plan : plans) {
            for (GridPlan.Entry cell : plan.cells())
                states.computeIfAbsent(cell.id(), id -> state(outDir, cell, running));
        }
        return new GridStatus(plans, List.copyOf(states.values()));
    }

    private static CellState state(Path outDir, GridPlan.Entry cell, Map<String, String> running) {
        if (running.containsKey(cell.id())) return new CellState(cell, State.RUNNING, running.get(cell.id()));
        Path file = ResultFiles.file(outDir, cell.id());
        if (!Files.exists(file)) return new CellState(cell, State.MISSING, null);
        try {
            Result r = ResultFiles.read(file);
            return r.ok()
                    ? new CellState(cell, State.DONE, null)
                    : new CellState(cell, State.FAILED, firstLine(r.error()));
        } catch (SlimException e) {
            return new CellState(cell, State.MISSING, e.getMessage() + "; a re-run replaces it");
        }
    }

    public List<CellState> cells() {
        return cells;
    }

    /** How many cells are in the state. */
    public long count(State state) {
        return cells.stream().filter(c -> c.state() == state).count();
    }

    /** The status as `slim grid --status` prints it. */
    public String text(Path outDir) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(
                "%s: %d cell%s in %d grid%s started here%n%n",
                outDir, cells.size(), cells.size() == 1 ? "" : "s", plans.size(), plans.size() == 1 ? "" : "s"));
        appendTable(s);
        for (State state : List.of(State.FAILED, State.RUNNING, State.MISSING)) appendList(s, state);
        appendWhatToRun(s, outDir);
        return s.toString();
    }

    private void appendTable(StringBuilder s) {
        Map<String, Map<State, Integer>> rows = new LinkedHashMap<>();
        for (CellState c : cells) {
            rows.computeIfAbsent(c.cell().model() + "\t" + c.cell().layers(), r -> new EnumMap<>(State.class))
                    .merge(c.state(), 1, Integer::sum);
        }
        int width = Math.max(
                5, rows.keySet().stream().mapToInt(r -> r.indexOf('\t')).max().orElse(0));
        String format = "%-" + width + "s  %-12s %6s %7s %8s %8s%n";
        s.append(String.format(format, "model", "layers", "done", "failed", "running", "missing"));
        rows.forEach((row, counts) -> {
            String[] parts = row.split("\t");
            Object[] values = {parts[0], parts[1], 0, 0, 0, 0};
            for (State state : State.values()) values[2 + state.ordinal()] = counts.getOrDefault(state, 0);
            s.append(String.format(format, values));
        });
        Object[] total = {"all", "", count(State.DONE), count(State.FAILED), count(State.RUNNING), count(State.MISSING)
        };
        s.append(String.format(format, total));
    }

    /** How many cells of one state are named; the rest are counted (a 600-cell grid's list would bury the table). */
    static final int LISTED = 20;

    /** The cells in a state, each with its detail. */
    private void appendList(StringBuilder s, State state) {
        List<CellState> these = cells.stream().filter(c -> c.state() == state).toList();
        if (these.isEmpty()) return;
        s.append(String.format("%n%s (%d):%n", state.label(), these.size()));
        for (CellState c : these.subList(0, Math.min(LISTED, these.size()))) {
            s.append("  ")
                    .append(c.cell())
                    .append(c.detail() == null ? "" : ": " + c.detail())
                    .append('\n');
        }
        if (these.size() > LISTED)
            s.append("  and ").append(these.size() - LISTED).append(" more\n");
    }

    /** Each grid with unfinished cells and the command that finishes them, or the report when all are done. */
    private void appendWhatToRun(StringBuilder s, Path outDir) {
        Set<String> unfinished = new LinkedHashSet<>();
        boolean anyFailed = false;
        for (CellState c : cells) {
            if (c.state() == State.DONE || c.state() == State.RUNNING) continue;
            unfinished.add(c.cell().id());
            anyFailed |= c.state() == State.FAILED;
        }
        if (unfinished.isEmpty()) {
            s.append(
                    count(State.RUNNING) == 0
                            ? String.format("%nEvery cell is done: slim report %s%n", outDir)
                            : String.format(
                                    "%nNothing to start: wait for the running cells, then: slim report %s%n", outDir));
            return;
        }
        Map<String, State> stateOf = new HashMap<>();
        for (CellState c : cells) stateOf.put(c.cell().id(), c.state());
        List<String> commands = new ArrayList<>();
        for (GridPlan plan : plans) {
            boolean needed = plan.cells().stream().anyMatch(c -> unfinished.contains(c.id()));
            boolean failedHere = plan.cells().stream().anyMatch(c -> stateOf.get(c.id()) == State.FAILED);
            if (needed) commands.add(plan.command() + (failedHere ? " --retry-failed" : ""));
        }
        s.append(String.format(
                "%nTo run the %d unfinished cell%s (cells running elsewhere are left to their process)%s:%n",
                unfinished.size(),
                unfinished.size() == 1 ? "" : "s",
                anyFailed ? ", after fixing what made cells fail" : ""));
        for (String c : commands) s.append("  ").append(c).append('\n');
    }

    private static String firstLine(String text) {
        return text == null ? "(no reason recorded)" : text.lines().findFirst().orElse("");
    }
}
