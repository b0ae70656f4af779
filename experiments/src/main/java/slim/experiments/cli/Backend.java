package slim.experiments.cli;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.util.Locale;
import java.util.function.Supplier;
import slim.nn.SlimException;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * `--backend cpu|tornado|auto`: where the kernels run. The TornadoVM kernels live in the tornado
 * module, built only where a TornadoVM SDK is installed, so they are found by name; and TornadoVM's
 * own classes are not touched before the tornado module's TornadoRuntime has said that its runtime is
 * in this JVM, because without it their static initialisers fail for good.
 */
enum Backend {
    CPU,
    TORNADO,
    AUTO;

    private static final String KERNELS = "slim.tornado.TornadoKernels";
    private static final String RUNTIME_CHECK = "slim.tornado.TornadoRuntime";

    static Backend parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
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
                Throwable cause = e instanceof InvocationTargetException t ? t.getCause() : e;
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

    /** Null when the device kernels can be made, else why not (TornadoRuntime.missing, found by name). */
    private static String missingRuntime() {
        try {
            return (String) Class.forName(RUNTIME_CHECK).getMethod("missing").invoke(null);
        } catch (ClassNotFoundException e) {
            return "the tornado module is not on the class path (./slim builds it where TORNADOVM_HOME names an SDK)";
        } catch (ReflectiveOperationException | LinkageError e) {
            return "cannot ask " + RUNTIME_CHECK + ": " + e;
        }
    }
}
