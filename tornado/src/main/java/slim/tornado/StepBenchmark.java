package slim.tornado;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import slim.nn.SlimException;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.model.Model;
import slim.nn.model.ModelConfig;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * Milliseconds per training step (zero grads, forward over T tokens, last-token LM loss, backward,
 * AdamW) for each kept-layer count, on the CPU kernels and on the TornadoVM kernels, side by side.
 * A plain timed loop after warm-up steps (TornadoVM compiles each kernel on its first use).
 *
 * <p>Arguments: [model dir (default ../shared/models/stories260K)] [T (64)] [timed steps (10)].
 */
public final class StepBenchmark {
    private StepBenchmark() {}

    public static void main(String[] args) {
        Path dir = args.length > 0 ? Path.of(args[0]) : shared().resolve("models").resolve("stories260K");
        int T = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        String missing = TornadoRuntime.missing();
        if (missing != null) throw new SlimException(missing);
        ModelConfig config = ModelConfig.read(dir);
        System.out.printf("%s, T=%d, %d timed steps after 3 warm-up steps; ms per step%n", dir.getFileName(), T, steps);
        System.out.printf("%5s %10s %10s %16s %16s %16s%n", "keep", "cpu", "tornado", "graph runs/step",
                "floats in/step", "floats out/step");
        for (int keep = 1; keep <= config.layers(); keep++) {
            double cpu = msPerStep(dir, keep, T, steps, CpuKernels::new);
            TornadoKernels[] device = new TornadoKernels[1];
            long[] before = new long[3];
            double ms = msPerStep(dir, keep, T, steps, () -> device[0] = new TornadoKernels(), () -> {
                before[0] = device[0].executions();
                before[1] = device[0].floatsUploaded();
                before[2] = device[0].floatsDownloaded();
            });
            System.out.printf("%5d %10.1f %10.1f %16d %16d %16d%n", keep, cpu, ms,
                    (device[0].executions() - before[0]) / steps, (device[0].floatsUploaded() - before[1]) / steps,
                    (device[0].floatsDownloaded() - before[2]) / steps);
        }
    }

    private static double msPerStep(Path dir, int keep, int T, int steps, Supplier<Kernels> kernels) {
        return msPerStep(dir, keep, T, steps, kernels, () -> {});
    }

    /** afterWarmUp runs just before the timed steps. */
    private static double msPerStep(Path dir, int keep, int T, int steps, Supplier<Kernels> kernels,
                                    Runnable afterWarmUp) {
        Kernels k = kernels.get();
        Model m = ModelFiles.load(dir, keep, ModelFiles.Options.inference().training().withHeadRows(1)
                .withLabels(0, Pooling.LAST, 0).withKernels(k));
        AdamW opt = new AdamW(m, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f);
        int[] ids = new int[T];
        for (int t = 0; t < T; t++) ids[t] = 1 + (t * 7919) % (m.config().vocab() - 1);
        int[] target = {ids[0]};
        for (int s = 0; s < 3; s++) step(m, opt, ids, target);
        afterWarmUp.run();
        long start = System.nanoTime();
        for (int s = 0; s < steps; s++) step(m, opt, ids, target);
        double ms = (System.nanoTime() - start) / 1e6 / steps;
        if (k instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new SlimException("closing " + k.name() + ": " + e.getMessage(), e);
            }
        }
        return ms;
    }

    private static void step(Model m, AdamW opt, int[] ids, int[] target) {
        m.zeroGrad();
        m.forward(ids, ids.length);
        m.lmLogits(new int[] {ids.length - 1}, 1);
        float loss = m.loss(target, null);
        if (!Float.isFinite(loss)) throw new SlimException("the benchmark's loss became " + loss);
        m.backward();
        opt.step();
    }

    /** The shared data folder: -Dslim.shared, else the first shared/ beside a parent of the working directory. */
    private static Path shared() {
        String property = System.getProperty("slim.shared");
        if (property != null) return Path.of(property);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolveSibling("shared"))) return p.resolveSibling("shared");
        }
        throw new SlimException("no shared/ folder beside the working directory or a parent; set -Dslim.shared");
    }
}
