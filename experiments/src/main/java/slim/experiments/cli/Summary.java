package slim.experiments.cli;

import java.io.PrintStream;
import slim.experiments.ProgressBar;
import slim.experiments.Result;

/** The few lines a finished cell prints. */
final class Summary {
    private Summary() {}

    static void print(PrintStream out, Result r) {
        out.printf("%s k=%d of %d, %s, %s, seed %d%s%n", r.modelName(), r.keep(), r.modelLayers(), r.task(), r.setting(),
                r.seed(), r.pooling() != null ? ", pooling " + r.pooling() : "");
        if (!r.ok()) {
            out.println("FAILED: " + r.error());
            return;
        }
        StringBuilder curve = new StringBuilder();
        for (double v : r.valAccuracy()) curve.append(String.format(" %.3f", v));
        out.printf("validation accuracy per epoch:%s%n", curve);
        out.printf("best epoch %d (val %.3f)%s; test accuracy %.3f (majority class %.3f)%n", r.bestEpoch(),
                r.bestValAccuracy(), r.stoppedEarly() ? ", stopped early" : "", r.testAccuracy(), r.majorityAccuracy());
        out.printf("%,d parameters kept; %s (train %s, %.0f tokens/s); peak heap %.0f MB%n", r.paramsKept(),
                ProgressBar.duration(r.wallSeconds()), ProgressBar.duration(r.trainSeconds()), r.tokensPerSecond(),
                r.peakHeapBytes() / 1e6);
    }
}
