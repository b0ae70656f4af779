package slim.experiments;

import java.io.PrintStream;

/** A finished cell as people read it: one line in a grid's log, a few lines after `slim train`. */
public final class ResultText {
    private ResultText() {}

    /** "test accuracy 0.512 (majority 0.500), best epoch 3 of 8, 4m10s, 812 tokens/s", or why it failed. */
    public static String line(Result r) {
        if (!r.ok()) return "FAILED: " + r.error();
        Result.Curves c = r.curves();
        return String.format(
                "test accuracy %.3f (majority %.3f), best epoch %d of %d, %s, %.0f tokens/s",
                c.testAccuracy(),
                c.majorityAccuracy(),
                c.bestEpoch(),
                c.valAccuracy().length,
                ProgressBar.duration(r.costs().wallSeconds()),
                r.costs().tokensPerSecond());
    }

    /** The cell, its validation curve, best epoch, test accuracy and costs. */
    public static void print(PrintStream out, Result r) {
        Result.CellInfo cell = r.cell();
        out.printf(
                "%s k=%d of %d, %s, %s, seed %d%s%n",
                cell.modelName(),
                cell.keep(),
                cell.modelLayers(),
                cell.task(),
                cell.setting(),
                cell.seed(),
                cell.pooling() != null ? ", pooling " + cell.pooling() : "");
        if (!r.ok()) {
            out.println("FAILED: " + r.error());
            return;
        }
        Result.Curves c = r.curves();
        StringBuilder curve = new StringBuilder();
        for (double v : c.valAccuracy()) curve.append(String.format(" %.3f", v));
        out.printf("validation accuracy per epoch:%s%n", curve);
        out.printf(
                "best epoch %d (val %.3f)%s; test accuracy %.3f (majority class %.3f)%n",
                c.bestEpoch(),
                c.bestValAccuracy(),
                c.stoppedEarly() ? ", stopped early" : "",
                c.testAccuracy(),
                c.majorityAccuracy());
        Result.Costs costs = r.costs();
        out.printf(
                "%,d parameters kept; %s (train %s, %.0f tokens/s); peak heap %.0f MB%n",
                costs.paramsKept(),
                ProgressBar.duration(costs.wallSeconds()),
                ProgressBar.duration(costs.trainSeconds()),
                costs.tokensPerSecond(),
                costs.peakHeapBytes() / 1e6);
    }
}
