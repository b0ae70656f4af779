package slim.tornado;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import slim.nn.kernels.KernelGradientChecks;

/** nn's finite-difference checks of every backward kernel, run on the device kernels. */
class TornadoGradientCheckTest extends KernelGradientChecks {
    private final TornadoKernels kernels;

    @BeforeAll
    static void runtime() {
        String missing = TornadoRuntime.missing();
        assumeTrue(missing == null, () -> "skipped: " + missing);
    }

    /** One constructor (JUnit takes no other), keeping the kernels it hands up to close them. */
    TornadoGradientCheckTest() {
        TornadoKernels kernels = new TornadoKernels();
        this.kernels = kernels;
        super(kernels);
    }

    @AfterEach
    void close() {
        kernels.close();
    }
}
