package slim.tornado;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import slim.nn.model.GoldenTest;

/** nn's golden checks (logits, losses, every gradient, heads, AdamW steps) with the kernels on the TornadoVM device. */
class TornadoGoldenTest {

    @TestFactory
    Stream<DynamicNode> everyGoldenFolderOnTheDevice() throws IOException {
        String missing = TornadoRuntime.missing();
        assumeTrue(missing == null, () -> "skipped: " + missing);
        return GoldenTest.everyGoldenFolder(TornadoKernels::new);
    }
}
