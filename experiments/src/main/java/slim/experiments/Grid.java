package slim.experiments;

import java.nio.file.Path;
import java.util.List;
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
                if (parts.length == 2) return new Shard(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("--shard '" + s + "': expected i/n, e.g. 0/4 for the first of four shards");
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
     */
    public record Counts(int cells, int inShard, int alreadyDone, int ran, int failed, int elsewhere) {}

    private final Path outDir;
    private final ProgressBar bar;
    private final boolean retryFailed;
    private final ToDoubleFunction<Cell> cost;

    /** @param retryFailed run again cells whose existing result is a failure */
    public Grid(Path outDir, ProgressBar bar, boolean retryFailed) {
        this(outDir, bar, retryFailed, cell -> 1);
    }

    private Grid(Path outDir, ProgressBar bar, boolean retryFailed, ToDoubleFunction<Cell> cost) {
        this.outDir = outDir;
        this.bar = bar;
        this.retryFailed = retryFailed;
        this.cost = cost;
    }

    /** The same grid with shards balanced by this estimate of a cell's cost (e.g. {@link CellCost}). */
    public Grid costs(ToDoubleFunction<Cell> cellCost) {
        return new Grid(outDir, bar, retryFailed, cellCost);
    }

    /** The grid's cells split into count shards. */
    public Shards shards(List<Cell> cells, int count) {
        return Shards.balanced(cells, count, cost);
    }

    /**
     * Whether the cell has a result already. A result made under another protocol is refused rather
     * than mixed into this grid's: reusing it would report numbers the flags did not ask for.
     */
    public boolean done(Cell cell, Protocol protocol) {
        Path file = ResultFiles.file(outDir, cell);
        if (!java.nio.file.Files.isRegularFile(file)) return false;
        Result r;
        try {
            r = ResultFiles.read(file);
        } catch (SlimException e) {
            return false; // not a result (damaged by hand, say): the cell runs again and replaces it
        }
        if (r.protocol() != null && !r.protocol().equals(protocol)) {
            throw new SlimException(file + ": made with another protocol (" + r.protocol() + ", now " + protocol
                    + "); use a new results folder, or delete this one to start over");
        }
        return !retryFailed || r.ok();
    }

    public Counts run(List<Cell> cells, Shard shard, Protocol protocol, Runner runner) {
        List<Cell> mine = shards(cells, shard.count()).cells(shard);
        List<Cell> todo = mine.stream().filter(c -> !done(c, protocol)).toList();
        bar.log("grid: " + cells.size() + " cells" + (shard.count() > 1 ? ", shard " + shard.index() + "/" + shard.count()
                + " owns " + mine.size() : "") + ", " + (mine.size() - todo.size()) + " already done, " + todo.size()
                + " to run; results in " + outDir);
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
                        bar.log(step + (claim == null ? "running elsewhere (" + claims.holder(cell.id()) + ")"
                                : "finished elsewhere"));
                        continue;
                    }
                    CellProgress progress = new CellProgress(bar, cell, i, todo.size(), start, protocol.epochs());
                    result = runClaimed(cell, protocol, runner, progress);
                }
                if (!result.ok()) failed++;
                double perCell = (System.nanoTime() - start) / 1e9 / (i + 1);
                String eta = i + 1 < todo.size() ? "; grid ETA " + ProgressBar.duration(perCell * (todo.size() - i - 1))
                        : "";
                bar.log(step + ResultText.line(result) + eta);
            }
        }
        bar.clear();
        int ran = todo.size() - elsewhere;
        return new Counts(cells.size(), mine.size(), mine.size() - todo.size(), ran, failed, elsewhere);
    }

    /** Runs a cell this process has claimed and writes its result (a failure's too). */
    private Result runClaimed(Cell cell, Protocol protocol, Runner runner, CellProgress progress) {
        Result result;
        try {
            result = runner.run(cell, progress);
        } catch (SlimException e) {
            result = Result.failure(cell, protocol, e.getMessage());
        } catch (OutOfMemoryError e) {
            // The cell's model, gradients and moments were only reachable from the failed run: they are
            // garbage now, so the next cell has the heap again.
            result = Result.failure(cell, protocol, Memory.outOfMemory(e));
        }
        ResultFiles.writeResult(ResultFiles.file(outDir, cell), result);
        return result;
    }
}
