package slim.experiments;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import slim.nn.SlimException;
import slim.nn.model.KeptLayers;
import slim.nn.model.MemoryCheck;
import slim.nn.model.ModelConfig;
import slim.nn.model.ParamLayout;

/**
 * The heap a cell needs, checked before it trains, and peak memory, for the cost columns of a result.
 */
final class Memory {
    private static final double GIB = 1L << 30;

    private Memory() {}

    /**
     * Refuses a cell whose training cannot fit in what the heap has left: the weights, gradients and AdamW's two
     * moments of the kept layers and the activations at the longest prompt, as {@link MemoryCheck} counts them
     * from the layout (the best epoch's copy lives off the heap, in {@link BestWeights}). The message gives the
     * numbers and the most layers that would fit.
     */
    static void requireFits(Path model, ModelConfig config, KeptLayers kept, int labels, boolean pooler, int tokens) {
        Runtime rt = Runtime.getRuntime();
        requireFits(model, config, kept, labels, pooler, tokens, rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
    }

    static void requireFits(
            Path model, ModelConfig config, KeptLayers kept, int labels, boolean pooler, int tokens, long available) {
        MemoryCheck need = training(config, kept, labels, pooler, tokens);
        if (need.totalBytes() <= available) return;
        int fits = 0;
        for (int k = kept.count() - 1; k >= 1 && fits == 0; k--) {
            if (training(config, KeptLayers.first(k), labels, pooler, tokens).totalBytes() <= available) fits = k;
        }
        throw new SlimException(String.format(
                Locale.ROOT,
                "%s: training %d layers needs about %.2f GiB (weights,"
                        + " gradients and AdamW's two moments %.2f GiB, activations at %d tokens %.2f GiB) but the heap"
                        + " has %.2f GiB free; %s (SLIM_HEAP=...g gives slim a larger heap)",
                model,
                kept.count(),
                need.totalBytes() / GIB,
                need.parameterBytes() / GIB,
                tokens,
                need.activationBytes() / GIB,
                available / GIB,
                fits > 0 ? "up to " + fits + " layers fit" : "not even one layer fits"));
    }

    static MemoryCheck training(ModelConfig config, KeptLayers kept, int labels, boolean pooler, int tokens) {
        return MemoryCheck.of(new ParamLayout(config, kept, labels, pooler, ""), tokens, 1, true);
    }

    /** The failure a cell that ran out of heap anyway records. */
    static String outOfMemory(OutOfMemoryError e) {
        return String.format(
                Locale.ROOT,
                "ran out of memory (%s) with a heap of %.2f GiB: give slim a larger heap"
                        + " (SLIM_HEAP=...g) or keep fewer layers",
                e.getMessage(),
                Runtime.getRuntime().maxMemory() / GIB);
    }

    /** Starts a new peak for {@link #peakHeapBytes}. */
    static void resetPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) pool.resetPeakUsage();
        }
    }

    /** Sum of the heap pools' peaks since the last reset (an upper bound: pools peak at different times). */
    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }

    /** The process's peak resident set (VmHWM) on Linux; 0 where the kernel does not say. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return 1024 * Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return 0;
    }
}
