package slim.bench;

/**
 * The bytes a first-k model holds for fine-tuning with AdamW in fp32: parameters, gradients and the
 * two moments, 16 bytes per parameter (activations come on top and grow with the prompt length).
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar slim.bench.Footprint}
 */
public final class Footprint {
    private static final double GIB = 1L << 30;
    /** What 24 GiB leaves for these after activations, the JVM and the OS. */
    private static final double BUDGET_GIB = 18;

    public static void main(String[] args) {
        System.out.println("| model | k | parameters (M) | params + grads + AdamW (GiB) | fits in 24 GiB? |");
        System.out.println("|---|---:|---:|---:|---|");
        for (Shapes s : Shapes.values()) {
            int layers = s.config().layers();
            for (int k : new int[] {1, layers / 4, layers / 2, 3 * layers / 4, layers}) {
                long n = s.parameters(k);
                double gib = 16.0 * n / GIB;
                System.out.printf(
                        "| %s | %d | %.0f | %.1f | %s |%n", s.id, k, n / 1e6, gib, gib < BUDGET_GIB ? "yes" : "no");
            }
        }
    }
}
