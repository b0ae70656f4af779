package slim.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width of every CPU kernel: the machine's preferred one, or the one -Dslim.vectorBits
 * (64, 128, 256 or 512) asks for. The kernels pick their path from it (narrow heads, heads four
 * vectors wide, the matmul tiles), so the tests run once per width and cover every path on any host;
 * a width the hardware lacks still computes correctly, only in plain Java, far slower. It is a
 * static final, not a constructor argument, because the JIT compiles vector code only for a species
 * it knows as a constant.
 */
final class Vectors {
    static final VectorSpecies<Float> SPECIES = species(System.getProperty("slim.vectorBits"));

    private Vectors() {}

    private static VectorSpecies<Float> species(String bits) {
        if (bits == null || bits.isBlank()) return FloatVector.SPECIES_PREFERRED;
        return switch (bits.strip()) {
            case "64", "128", "256", "512" ->
                VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits.strip())));
            default ->
                throw new IllegalArgumentException(
                        "-Dslim.vectorBits=" + bits + ": the kernels' vectors are 64, 128, 256 or 512 bits wide");
        };
    }
}
