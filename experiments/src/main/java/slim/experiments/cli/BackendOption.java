package slim.experiments.cli;

import java.util.function.Supplier;
import picocli.CommandLine.Option;
import slim.nn.kernels.Kernels;

/** `--backend`, shared by the commands that train. */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "where the kernels run: cpu (default), tornado (TornadoVM; fails without it) or auto (TornadoVM when present)")
    String name;

    Supplier<Kernels> resolve() {
        return Backend.parse(name).resolve(System.out);
    }
}
