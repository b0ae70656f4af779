package slim.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The gradient checks on the CPU kernels, at whichever vector width this JVM runs them. */
class KernelGradientCheckTest extends KernelGradientChecks {

    KernelGradientCheckTest() {
        super(new CpuKernels());
    }

    /** The head widths of the attention checks take the paths they are named after. */
    @Test
    void eachAttentionPathIsChecked() {
        for (Heads heads : Heads.values()) {
            int D = heads.width();
            assertEquals(heads == Heads.NARROW, NarrowHeadAttention.narrow(D), heads + " D=" + D);
            assertEquals(heads == Heads.FOUR_VECTORS, FourVectorAttention.fits(D), heads + " D=" + D);
        }
        assertTrue(
                Heads.NARROW.positions() > Vectors.SPECIES.length(), "the narrow path's loops along T fill a vector");
    }

    /** The build's runs at each width (-Dslim.vectorBits) really change the kernels' vectors. */
    @Test
    void vectorWidthIsTheOneAskedFor() {
        String bits = System.getProperty("slim.vectorBits");
        if (bits != null) assertEquals(Integer.parseInt(bits), Vectors.SPECIES.vectorBitSize());
        assertTrue(new CpuKernels().name().contains(Vectors.SPECIES.vectorBitSize() + "-bit"));
    }
}
