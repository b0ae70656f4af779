package slim.experiments.cli;

import java.io.PrintStream;
import java.util.function.Supplier;
import slim.nn.SlimException;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * `--backend cpu|tornado|auto`: where the kernels run. The TornadoVM kernels live in the tornado
 * module, built only where a TornadoVM SDK is installed, so they are found by name; and TornadoVM's
 * own classes are not touched before its runtime is known to be in this JVM (its argfile sets the
 * property naming the runtime class), because without it their static initialisers fail for good.
 */
enum Backend {
    CPU, TORNADO, AUTO;

    private static final String KERNELS = "slim.tornado.TornadoKernels";
    private static final String RUNTIME_PROPERTY = "tornado.load.runtime.implementation";

    static Backend parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "tornado" -> TORNADO;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("--backend " + name + ": expected cpu, tornado or auto");
        };
    }

    /**
     * Makes kernel sets (one per model) on this backend, after checking once that it is there; says on
     * out which device the kernels run on, or why auto fell back to the CPU.
     */
    Supplier<Kernels> resolve(PrintStream out) {
        if (this == CPU) return CpuKernels::new;
        String missing = missingRuntime();
        Kernels device = null;
        if (missing == null) {
            try {
                device = newDeviceKernels();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException t ? t.getCause() : e;
                missing = "no TornadoVM device: " + cause;
            }
        }
        if (device != null) {
            out.println("backend: " + device.name());
            return () -> {
                try {
                    return newDeviceKernels();
                } catch (ReflectiveOperationException e) {
                    throw new SlimException("--backend tornado: " + e);
                }
            };
        }
        if (this == TORNADO) throw new SlimException("--backend tornado: " + missing);
        out.println("backend: " + new CpuKernels().name() + " (TornadoVM not available: " + missing + ")");
        return CpuKernels::new;
    }

    private static Kernels newDeviceKernels() throws ReflectiveOperationException {
        return (Kernels) Class.forName(KERNELS).getConstructor().newInstance();
    }

    private static String missingRuntime() {
        String impl = System.getProperty(RUNTIME_PROPERTY);
        if (impl == null) {
            return "this JVM was not started with TornadoVM (run with java @$TORNADOVM_HOME/tornado-argfile, see tornado/README.md)";
        }
        try {
            Class.forName(impl, false, Backend.class.getClassLoader());
            Class.forName(KERNELS, false, Backend.class.getClassLoader());
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return "missing class " + e.getMessage() + " (is the tornado module's jar on the class path?)";
        }
    }
}
