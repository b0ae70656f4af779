package slim.experiments.cli;

import java.io.PrintStream;
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

    /** A new kernel set (one per model); says on out which device it runs on, or why auto fell back to the CPU. */
    Kernels kernels(PrintStream out) {
        if (this == CPU) return new CpuKernels();
        String missing = missingRuntime();
        Kernels device = null;
        if (missing == null) {
            try {
                device = (Kernels) Class.forName(KERNELS).getConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException t ? t.getCause() : e;
                missing = "no TornadoVM device: " + cause;
            }
        }
        if (device != null) {
            out.println("backend: " + device.name());
            return device;
        }
        if (this == TORNADO) throw new SlimException("--backend tornado: " + missing);
        CpuKernels cpu = new CpuKernels();
        out.println("backend: " + cpu.name() + " (TornadoVM not available: " + missing + ")");
        return cpu;
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
