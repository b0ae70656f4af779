package slim.experiments;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import slim.nn.SlimException;

/**
 * Runs the cells of a grid into a results folder, one JSON file per cell. A cell whose file exists
 * is done and skipped, so a killed grid resumes losing at most the cell in progress; shard i of n
 * runs its share of the cells split by estimated cost ({@link Shards}), so n processes (a Slurm job
 * array, several GPUs) split a grid without talking to each other. A cell is claimed before it runs
 * ({@link CellClaims}), so processes whose shards overlap, or a requeued task whose first run is not
 * yet gone, never run the same cell twice.
 */
public final class Grid {

    /** Shard index of count, 0-based; {@link Shards} says which cells it runs. */
    public record Shard(int index, int count) {
        public static final Shard ALL = new Shard(0, 1);

        public Shard {
            if (count < 1 || index < 0 || index >= count) {
                throw new IllegalArgumentException("shard " + index + "/" + count + ": expected i/n with 0 <= i < n");
            }
        }

        /** "i/n", as --shard takes it. */
        public static Shard parse(String s) {
            String[] parts = s.split("/");
            try {
                if (parts.length == 2)
                    return new Shard(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException(
                    "--shard '" + s + "': expected i/n, e.g. 0/4 for the first of four shards");
        }
    }

    /** Runs one cell. */
    @FunctionalInterface
    public interface Runner {
        Result run(Cell cell, Trainer.Listener listener);
    }

    /**
     * @param inShard     cells this shard owns
     * @param alreadyDone of those, cells that had a result file and were skipped
     * @param ran         cells run now
     * @param failed      cells run now whose result is a failure
     * @param elsewhere   cells another process was running, or finished meanwhile
     * @param failedBefore cells skipped because an earlier run failed them (--retry-failed runs them)
     */
    public record Counts(
            int cells, int inShard, int alreadyDone, int ran, int failed, int elsewhere, int failedBefore) {}

    private final Path outDir;
    private final ProgressBar bar;
    private final boolean retryFailed;
    private final ToDoubleFunction<Cell> cost;
    private final Function<Cell, Origin> origins;

    /**
     * @param retryFailed run again cells whose existing result is a failure
     * @param origins     what each cell's result is made from now (e.g. {@link Experiment#origin}): an existing
     *                    result made from anything else is refused, never counted as done
     */
    public Grid(Path outDir, ProgressBar bar, boolean retryFailed, Function<Cell, Origin> origins) {
        this(outDir, bar, retryFailed, cell -> 1, origins);
    }

    private Grid(
            Path outDir,
            ProgressBar bar,
            boolean retryFailed,
            ToDoubleFunction<Cell> cost,
            Function<Cell, Origin> origins) {
        this.outDir = outDir;
        this.bar = bar;
        this.retryFailed = retryFailed;
        this.cost = cost;
        this.origins = origins;
    }

    /** The same grid with shards balanced by this estimate of a cell's cost (e.g. {@link CellCost}). */
    public Grid costs(ToDoubleFunction<Cell> cellCost) {
        return new Grid(outDir, bar, retryFailed, cellCost, origins);
    }

    /** The grid's cells split into count shards. */
    public Shards shards(List<Cell> cells, int count) {
        return Shards.balanced(cells, count, cost);
    }

    /**
     * Whether the cell has a result already (a failed one counts as done unless retrying); see
     * {@link #requireSameOrigin}.
     */
    public boolean done(Cell cell, Protocol protocol) {
        Result r = requireSameOrigin(ResultFiles.file(outDir, cell), protocol, origins.apply(cell));
        return r != null && (!retryFailed || r.ok());
    }

    /**
     * The result already in file, or null when there is none or it is damaged (the cell then runs again and
     * replaces it). A result made differently (another protocol, another model in a folder of the same name, other
     * data) is refused rather than reused or replaced: reusing it would report numbers the flags and files did not
     * make, replacing it would lose finished work.
     */
    public static Result requireSameOrigin(Path file, Protocol protocol, Origin origin) {
        if (!Files.isRegularFile(file)) return null;
        Result r;
        try {
            r = ResultFiles.read(file);
        } catch (SlimException e) {
            return null;
        }
        String otherProtocol = protocol.difference(r.protocol(), "in the file", "now");
        if (otherProtocol != null) {
            throw new SlimException(file + ": made with another protocol (" + otherProtocol
                    + "); use a new results folder, or delete this one to start over");
        }
        String difference = Origin.difference(r.origin(), origin);
        if (difference != null) {
            throw new SlimException(file + ": " + difference
                    + "; use a new results folder, or move this result away to run the cell" + " again");
        }
        return r;
    }

    public Counts run(List<Cell> cells, Shard shard, Protocol protocol, Runner runner) {
        List<String> removed = ResultFiles.cleanLeftovers(outDir);
        if (!removed.isEmpty())
            bar.log("removed what an earlier, killed run left half-written: " + String.join(", ", removed));
        List<Cell> mine = shards(cells, shard.count()).cells(shard);
        List<Cell> todo = mine.stream().filter(c -> !done(c, protocol)).toList();
        List<String> failedBefore = mine.stream()
                .filter(c -> !retryFailed && failedResult(c, protocol) != null)
                .map(c -> c + ": " + failedResult(c, protocol))
                .toList();
        bar.log("grid: " + cells.size() + " cells"
                + (shard.count() > 1 ? ", shard " + shard.index() + "/" + shard.count() + " owns " + mine.size() : "")
                + ", " + (mine.size() - todo.size()) + " already done, " + todo.size()
                + " to run; results in " + outDir);
        if (!failedBefore.isEmpty()) {
            bar.log(failedBefore.size()
                    + " cells failed in an earlier run and are not run again without --retry-failed:\n  "
                    + String.join("\n  ", failedBefore));
        }
        AtomicInteger finished = new AtomicInteger();
        // SIGTERM or Ctrl-C: one line saying what is kept and how to go on (the cell in progress is lost).
        Thread onStop = new Thread(() -> System.err.printf(
                "%ngrid stopped: %d of the %d cells to run finished (results"
                        + " in %s); run the same command again to resume%n",
                finished.get(), todo.size(), outDir));
        Runtime.getRuntime().addShutdownHook(onStop);
        long start = System.nanoTime();
        int failed = 0, elsewhere = 0;
        try (CellClaims claims = CellClaims.in(outDir)) {
            for (int i = 0; i < todo.size(); i++) {
                Cell cell = todo.get(i);
                String step = String.format("[%d/%d] %s: ", i + 1, todo.size(), cell);
                Result result;
                try (CellClaims.Claim claim = claims.claim(cell.id())) {
                    if (claim == null || done(cell, protocol)) {
                        elsewhere++;
                        bar.log(step
                                + (claim == null
                                        ? "running elsewhere (" + claims.holder(cell.id()) + ")"
                                        : "finished elsewhere"));
                        continue;
                    }
                    CellProgress progress = new CellProgress(bar, cell, i, todo.size(), start, protocol.epochs());
                    result = runClaimed(cell, protocol, runner, progress);
                    finished.incrementAndGet();
                }
                if (!result.ok()) failed++;
                double perCell = (System.nanoTime() - start) / 1e9 / (i + 1);
                String eta = i + 1 < todo.size()
                        ? "; grid ETA " + ProgressBar.duration(perCell * (todo.size() - i - 1))
                        : "";
                bar.log(step + ResultText.line(result) + eta);
            }
        } finally {
            removeHook(onStop);
        }
        bar.clear();
        int ran = todo.size() - elsewhere;
        return new Counts(
                cells.size(), mine.size(), mine.size() - todo.size(), ran, failed, elsewhere, failedBefore.size());
    }

    /** The error of the cell's existing failed result, or null. */
    private String failedResult(Cell cell, Protocol protocol) {
        Result r = requireSameOrigin(ResultFiles.file(outDir, cell), protocol, origins.apply(cell));
        return r == null || r.ok() ? null : r.error();
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is stopping: the hook runs and says what was done
        }
    }

    /** Runs a cell this process has claimed and writes its result (a failure's too). */
    private Result runClaimed(Cell cell, Protocol protocol, Runner runner, CellProgress progress) {
        Result result;
        try {
            result = runner.run(cell, progress);
        } catch (SlimException e) {
            result = Result.failure(cell, protocol, origins.apply(cell), e.getMessage());
        } catch (OutOfMemoryError e) {
            // The cell's model, gradients and moments were only reachable from the failed run: they are
            // garbage now, so the next cell has the heap again.
            result = Result.failure(cell, protocol, origins.apply(cell), Memory.outOfMemory(e));
        }
        ResultFiles.writeResult(ResultFiles.file(outDir, cell), result);
        return result;
    }
}
