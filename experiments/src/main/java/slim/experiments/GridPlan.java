package slim.experiments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import slim.nn.SlimException;

/**
 * What a grid was asked to run, kept in its results folder ({@code OUT/.slim/grid-HASH.json}) so that
 * {@code slim grid --status OUT} knows the cells that have no result yet and the command that runs them. The
 * name hashes the cell list, so the shards of one grid, or the same grid started again, share one plan.
 *
 * @param command the grid's command line, to run again what is unfinished
 * @param cells   every cell of the grid, in its order
 */
public record GridPlan(String command, List<Entry> cells) {

    /** One cell as the status shows it; id names its result file. */
    public record Entry(String id, String model, String layers, String task, String setting, int seed) {
        static Entry of(Cell c) {
            return new Entry(
                    c.id(),
                    c.modelName(),
                    c.layers().toString(),
                    c.task().id(),
                    c.setting().id(),
                    c.seed());
        }

        @Override
        public String toString() {
            return model + " " + layers + " " + task + " " + setting + " seed " + seed;
        }
    }

    private static final String PREFIX = "grid-";

    public static GridPlan of(String command, List<Cell> cells) {
        return new GridPlan(command, cells.stream().map(Entry::of).toList());
    }

    /** Writes the plan into the grid's results folder (again, harmlessly, when a shard of it wrote it first). */
    public void write(Path outDir) {
        ResultFiles.write(outDir.resolve(".slim").resolve(PREFIX + hash() + ".json"), this);
    }

    /** The plans of every grid started in outDir, oldest first; none when no grid was (or an older slim ran it). */
    public static List<GridPlan> read(Path outDir) {
        Path dir = outDir.resolve(".slim");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches(PREFIX + "[0-9a-f]+\\.json"))
                    .sorted(Comparator.comparing(GridPlan::modified))
                    .map(GridPlan::readOne)
                    .toList();
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list the grid plans: " + e.getMessage(), e);
        }
    }

    private static GridPlan readOne(Path file) {
        try {
            GridPlan plan = ResultFiles.JSON.readValue(file.toFile(), GridPlan.class);
            if (plan == null || plan.command() == null || plan.cells() == null)
                throw new SlimException(file + ": not a grid plan: no command or no cells");
            return plan;
        } catch (IOException e) {
            throw new SlimException(file + ": a damaged grid plan ("
                    + e.getMessage().lines().findFirst().orElse("")
                    + "); delete it, and give the grid's options with --status instead");
        }
    }

    private static FileTime modified(Path f) {
        try {
            return Files.getLastModifiedTime(f);
        } catch (IOException e) {
            throw new SlimException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    private String hash() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Entry e : cells) sha.update((e.id() + "\n").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
