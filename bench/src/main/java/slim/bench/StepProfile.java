package slim.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * Where a training step spends its time: the TrainingStep that StepBenchmark times, with every kernel call timed
 * (wall time, summed per kernel over a step; matrix products apart per shape, since the layers'
 * products and the LM head behave differently). Prints milliseconds per step and shares.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar slim.bench.StepProfile gpt2 12 139 last 5
 * }</pre>
 * (shape, k, tokens, head last|all, measured steps after two warm-up steps).
 */
public final class StepProfile {
    public static void main(String[] args) {
        Shapes shape = Shapes.parse(args[0]);
        int k = Integer.parseInt(args[1]), tokens = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[4]);
        Map<String, long[]> nanos = new TreeMap<>();
        Kernels cpu = new CpuKernels();
        Kernels timed = (Kernels) Proxy.newProxyInstance(
                Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (proxy, method, a) -> {
                    long start = System.nanoTime();
                    Object result;
                    try {
                        result = method.invoke(cpu, a);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    String key = method.getName();
                    if (key.startsWith("matmul"))
                        key += " " + a[a.length - 3] + "x" + a[a.length - 2] + "x" + a[a.length - 1];
                    nanos.computeIfAbsent(key, x -> new long[1])[0] += System.nanoTime() - start;
                    return result;
                });
        TrainingStep step = new TrainingStep(args[0], k, tokens, args[3], timed);
        long total = 0;
        for (int s = -2; s < steps; s++) {
            if (s == 0) nanos.clear();
            long start = System.nanoTime();
            step.run();
            if (s >= 0) total += System.nanoTime() - start;
        }
        long stepNanos = total;
        System.out.printf(
                "%s k=%d T=%d head=%s: %.1f ms per step (mean of %d)%n",
                shape.id, k, tokens, args[3], stepNanos / 1e6 / steps, steps);
        nanos.entrySet().stream()
                .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
                .forEach(e -> System.out.printf(
                        "  %-36s %8.1f ms %5.1f %%%n",
                        e.getKey(), e.getValue()[0] / 1e6 / steps, 100.0 * e.getValue()[0] / stepNanos));
    }
}
