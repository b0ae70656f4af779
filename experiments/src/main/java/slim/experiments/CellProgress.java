package slim.experiments;

/**
 * One cell's progress, inside its grid's: the grid's bar with an ETA from the cells already done,
 * then the cell's epoch (training steps, or the validation or test pass running) with its own ETA,
 * then the last epoch's loss and validation accuracy.
 */
public final class CellProgress implements Trainer.Listener {
    private final ProgressBar bar;
    private final Cell cell;
    private final int index, total, epochs;
    private final long gridStart, cellStart;
    private long partStart;
    private int currentEpoch;
    private String currentPart = "";
    private String last = "";

    /** @param index cells of the grid finished before this one, of total, since gridStart (System.nanoTime) */
    public CellProgress(ProgressBar bar, Cell cell, int index, int total, long gridStart, int epochs) {
        this.bar = bar;
        this.cell = cell;
        this.index = index;
        this.total = total;
        this.gridStart = gridStart;
        this.epochs = epochs;
        this.cellStart = System.nanoTime();
    }

    @Override
    public void step(int epoch, int done, int of) {
        long now = System.nanoTime();
        if (epoch != currentEpoch || !currentPart.isEmpty()) {
            currentEpoch = epoch;
            currentPart = "";
            partStart = now;
        }
        if (!bar.due(done == of)) return;
        double cellFraction = (epoch - 1 + (double) done / of) / epochs;
        bar.show(
                grid(now, cellFraction)
                        + String.format("%s | epoch %d/%d %s%s", cell, epoch, epochs, pass(done, of, now), last),
                done == of);
    }

    @Override
    public void evaluating(String part, int done, int of) {
        long now = System.nanoTime();
        if (!part.equals(currentPart)) {
            currentPart = part;
            partStart = now;
        }
        if (!bar.due(false)) return;
        double cellFraction = part.equals("test") ? 1 : (double) currentEpoch / epochs;
        String where = part.equals("test") ? "test" : "epoch " + currentEpoch + "/" + epochs + " " + part;
        bar.show(
                grid(now, cellFraction) + String.format("%s | %s %s%s", cell, where, pass(done, of, now), last), false);
    }

    @Override
    public void epoch(int epoch, double meanLoss, double valAccuracy, double best) {
        last = String.format(" | loss %.3f val %.3f (best %.3f)", meanLoss, valAccuracy, best);
        if (!bar.terminal()) bar.log(cell + ": epoch " + epoch + "/" + epochs + last.replace(" | ", ", "));
    }

    /**
     * "grid 3/40 [###...] ETA 1h02m | " (nothing for a single cell). The ETA comes from the time the
     * finished cells took; before the first has finished, from how far this one is in its epochs
     * (an overestimate when it stops early).
     */
    private String grid(long now, double cellFraction) {
        if (total <= 1) return "";
        double elapsed = (now - gridStart) / 1e9;
        double perCell = (cellStart - gridStart) / 1e9 / index;
        String eta = index > 0
                ? ProgressBar.duration(Math.max(0, perCell * (total - index) - (now - cellStart) / 1e9))
                : ProgressBar.eta(elapsed, cellFraction, total);
        return String.format(
                "grid %d/%d %s ETA %s | ", index, total, ProgressBar.bar((index + cellFraction) / total, 20), eta);
    }

    /** "[#####..........] 12/40 ETA 31s" for the running pass (training steps or evaluation). */
    private String pass(int done, int of, long now) {
        return String.format(
                "%s %d/%d ETA %s",
                ProgressBar.bar((double) done / of, 15), done, of, ProgressBar.eta((now - partStart) / 1e9, done, of));
    }
}
