package slim.experiments;

/** A grid's bar and its running cell's epoch bar, with ETAs, on one updating line. */
public final class CellProgress implements Trainer.Listener {
    private final ProgressBar bar;
    private final Cell cell;
    private final int index, total, epochs;
    private final long gridStart;
    private long epochStart;
    private int currentEpoch;
    private String last = "";

    /** @param index cells of the grid finished before this one, of total */
    public CellProgress(ProgressBar bar, Cell cell, int index, int total, long gridStart, int epochs) {
        this.bar = bar;
        this.cell = cell;
        this.index = index;
        this.total = total;
        this.gridStart = gridStart;
        this.epochs = epochs;
    }

    @Override
    public void step(int epoch, int done, int of) {
        long now = System.nanoTime();
        if (epoch != currentEpoch) {
            currentEpoch = epoch;
            epochStart = now;
        }
        if (!bar.due(done == of)) return;
        double cellFraction = (epoch - 1 + (double) done / of) / epochs;
        double gridElapsed = (now - gridStart) / 1e9, epochElapsed = (now - epochStart) / 1e9;
        String grid = total > 1 ? String.format("grid %d/%d %s ETA %s | ", index, total,
                ProgressBar.bar((index + cellFraction) / total, 20), ProgressBar.eta(gridElapsed, index + cellFraction, total)) : "";
        bar.show(String.format("%s%s | epoch %d/%d %s %d/%d ETA %s%s", grid, cell, epoch, epochs,
                ProgressBar.bar((double) done / of, 15), done, of, ProgressBar.eta(epochElapsed, done, of), last), done == of);
    }

    @Override
    public void evaluating(String part, int done, int of) {
        if (!bar.due(false)) return;
        String grid = total > 1 ? String.format("grid %d/%d | ", index, total) : "";
        bar.show(String.format("%s%s | %s %d/%d%s", grid, cell, part, done, of, last), false);
    }

    @Override
    public void epoch(int epoch, double meanLoss, double valAccuracy, double best) {
        last = String.format(" | loss %.3f val %.3f (best %.3f)", meanLoss, valAccuracy, best);
        if (!bar.terminal()) bar.log(cell + ": epoch " + epoch + "/" + epochs + last.replace(" | ", ", "));
    }
}
