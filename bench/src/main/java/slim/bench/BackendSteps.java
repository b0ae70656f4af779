package slim.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import slim.nn.SlimException;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * The study's training step (TrainingStep, head at the last position) on each backend side by side: per shape and
 * kept-layer count, the first step (on TornadoVM: every kernel's compilation), the median of the steps timed after
 * two more, and
 * for TornadoVM its task-graph executions and floats moved per step. One markdown row per shape, k and backend;
 * a cell that cannot run (memory, TornadoVM's one-arena limit) gets its reason in the row and the others go on.
 *
 * <p>{@code java @$TORNADOVM_HOME/tornado-argfile --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * slim.bench.BackendSteps 139 3 cpu,tornado gpt2:1,12 gpt2-xl:1,2} (tokens, measured steps, backends, then
 * shape:k-list). The TornadoVM kernels come from the tornado module, found by name: benchmarks.jar carries it
 * where the build had TORNADOVM_HOME set (tornado/gpu-check runs this).
 */
public final class BackendSteps {
    private static final String TORNADO_KERNELS = "slim.tornado.TornadoKernels";
    /** Steps run after the first and before the timed ones. */
    private static final int WARM_UP = 2;

    private BackendSteps() {}

    public static void main(String[] args) throws Exception {
        int tokens = Integer.parseInt(args[0]), steps = Integer.parseInt(args[1]);
        String[] backends = args[2].split(",");
        System.out.printf("| shape | k | tokens | backend | first step ms | median step ms | executions/step"
                + " | floats up/step | floats down/step |%n|---|---:|---:|---|---:|---:|---:|---:|---:|%n");
        for (String spec : Arrays.copyOfRange(args, 3, args.length)) {
            String[] parts = spec.split(":");
            for (String k : parts[1].split(",")) {
                for (String backend : backends) {
                    String row;
                    try {
                        row = measure(parts[0], Integer.parseInt(k), tokens, steps, backend);
                    } catch (SlimException | OutOfMemoryError | IllegalArgumentException e) {
                        row = "not run: " + e.getMessage().replace('|', '/') + " | | | | |";
                    }
                    System.out.printf("| %s | %s | %d | %s | %s%n", parts[0], k, tokens, backend, row);
                }
            }
        }
    }

    /** The row's measured columns, each followed by its separator. */
    private static String measure(String shape, int k, int tokens, int steps, String backend) throws Exception {
        Kernels kernels = kernels(backend);
        try {
            TrainingStep step = new TrainingStep(shape, k, tokens, "last", kernels);
            long start = System.nanoTime();
            step.run();
            double first = (System.nanoTime() - start) / 1e6;
            // Warm-up steps first: the JIT compiles the CPU path, TornadoVM and PoCL the graphs a new segment brings.
            for (int s = 0; s < WARM_UP; s++) step.run();
            long[] before = counters(kernels);
            double[] ms = new double[steps];
            for (int s = 0; s < steps; s++) {
                start = System.nanoTime();
                step.run();
                ms[s] = (System.nanoTime() - start) / 1e6;
            }
            long[] after = counters(kernels);
            Arrays.sort(ms);
            List<String> cells =
                    new ArrayList<>(List.of(String.format("%.0f", first), String.format("%.1f", ms[steps / 2])));
            for (int i = 0; i < 3; i++) cells.add(before == null ? "" : Long.toString((after[i] - before[i]) / steps));
            return String.join(" | ", cells) + " |";
        } finally {
            kernels.close();
        }
    }

    private static Kernels kernels(String backend) throws ReflectiveOperationException {
        return switch (backend) {
            case "cpu" -> new CpuKernels();
            case "tornado" ->
                (Kernels) Class.forName(TORNADO_KERNELS).getConstructor().newInstance();
            default -> throw new IllegalArgumentException("backend " + backend + ": expected cpu or tornado");
        };
    }

    /** TornadoKernels' counters (executions, floats uploaded, floats downloaded); null for the CPU, which has none. */
    private static long[] counters(Kernels kernels) throws ReflectiveOperationException {
        if (!kernels.getClass().getName().equals(TORNADO_KERNELS)) return null;
        long[] c = new long[3];
        String[] names = {"executions", "floatsUploaded", "floatsDownloaded"};
        for (int i = 0; i < c.length; i++) {
            Method m = kernels.getClass().getMethod(names[i]);
            try {
                c[i] = (long) m.invoke(kernels);
            } catch (InvocationTargetException e) {
                throw new SlimException(names[i] + ": " + e.getCause(), e.getCause());
            }
        }
        return c;
    }
}
