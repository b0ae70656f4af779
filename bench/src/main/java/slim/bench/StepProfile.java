package slim.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * Where a training step spends its time: the TrainingStep that StepBenchmark times, with every kernel call timed
 * (wall time, summed per kernel over a step; matrix products apart per shape, since the layers'
 * products and the LM head behave differently). Prints milliseconds per step and shares. With
 * {@code -Dslim.threads=1} every kernel runs on the calling thread, and a second column gives its CPU time: on a
 * machine that other work shares, that is what the kernel itself costs, where wall time also counts the waits for a
 * core.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar slim.bench.StepProfile gpt2 12 139 last 5
 * }</pre>
 * (shape, k, tokens, head last|all, measured steps, and optionally the warm-up steps before them: 2 unless given; the
 * JIT compiles a kernel called once a step only after some dozens).
 */
public final class StepProfile {
    public static void main(String[] args) {
        Shapes shape = Shapes.parse(args[0]);
        int k = Integer.parseInt(args[1]), tokens = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[4]), warmUp = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        Map<String, long[]> nanos = new TreeMap<>();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Kernels cpu = new CpuKernels();
        Kernels timed = (Kernels) Proxy.newProxyInstance(
                Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (proxy, method, a) -> {
                    long start = System.nanoTime(), cpuStart = threads.getCurrentThreadCpuTime();
                    Object result;
                    try {
                        result = method.invoke(cpu, a);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    String key = method.getName();
                    if (key.startsWith("matmul"))
                        key += " " + a[a.length - 3] + "x" + a[a.length - 2] + "x" + a[a.length - 1];
                    long[] sums = nanos.computeIfAbsent(key, x -> new long[2]);
                    sums[0] += System.nanoTime() - start;
                    sums[1] += threads.getCurrentThreadCpuTime() - cpuStart;
                    return result;
                });
        TrainingStep step = new TrainingStep(args[0], k, tokens, args[3], timed);
        long total = 0, totalCpu = 0;
        for (int s = -warmUp; s < steps; s++) {
            if (s == 0) nanos.clear();
            long start = System.nanoTime(), cpuStart = threads.getCurrentThreadCpuTime();
            step.run();
            if (s >= 0) {
                total += System.nanoTime() - start;
                totalCpu += threads.getCurrentThreadCpuTime() - cpuStart;
            }
        }
        System.out.printf(
                "%s k=%d T=%d head=%s: %.1f ms per step (mean of %d), %.1f ms of the calling thread's CPU%n",
                shape.id, k, tokens, args[3], total / 1e6 / steps, steps, totalCpu / 1e6 / steps);
        long stepNanos = total;
        nanos.entrySet().stream()
                .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
                .forEach(e -> System.out.printf(
                        "  %-36s %8.1f ms %5.1f %%  %8.1f ms CPU%n",
                        e.getKey(),
                        e.getValue()[0] / 1e6 / steps,
                        100.0 * e.getValue()[0] / stepNanos,
                        e.getValue()[1] / 1e6 / steps));
    }
}
