package slim.experiments.cli;

import java.io.PrintStream;
import slim.experiments.ProgressBar;
import slim.experiments.Result;

/** The few lines a finished cell prints. */
final class Summary {
    private Summary() {}

    static void print(PrintStream out, Result r) {
        out.printf("%s k=%d of %d, %s, %s, seed %d%s%n", r.cell().modelName(), r.cell().keep(), r.cell().modelLayers(), r.cell().task(), r.cell().setting(),
                r.cell().seed(), r.cell().pooling() != null ? ", pooling " + r.cell().pooling() : "");
        if (!r.ok()) {
            out.println("FAILED: " + r.error());
            return;
        }
        StringBuilder curve = new StringBuilder();
        for (double v : r.curves().valAccuracy()) curve.append(String.format(" %.3f", v));
        out.printf("validation accuracy per epoch:%s%n", curve);
        out.printf("best epoch %d (val %.3f)%s; test accuracy %.3f (majority class %.3f)%n", r.curves().bestEpoch(),
                r.curves().bestValAccuracy(), r.curves().stoppedEarly() ? ", stopped early" : "", r.curves().testAccuracy(), r.curves().majorityAccuracy());
        out.printf("%,d parameters kept; %s (train %s, %.0f tokens/s); peak heap %.0f MB%n", r.costs().paramsKept(),
                ProgressBar.duration(r.costs().wallSeconds()), ProgressBar.duration(r.costs().trainSeconds()), r.costs().tokensPerSecond(),
                r.costs().peakHeapBytes() / 1e6);
    }
}
