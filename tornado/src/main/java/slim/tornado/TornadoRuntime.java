package slim.tornado;

/**
 * Whether this JVM runs with TornadoVM's runtime: the SDK's argfile sets the property naming the
 * runtime class. Checked before any TornadoVM class is touched, since without the runtime their
 * static initialisers fail and leave the classes unusable for the rest of the JVM's life.
 */
public final class TornadoRuntime {
    private TornadoRuntime() {}

    /** Null when the runtime is present, else why not, in one line. */
    public static String missing() {
        String impl = System.getProperty("tornado.load.runtime.implementation");
        if (impl == null) return "no TornadoVM runtime in this JVM (start it with @$TORNADOVM_HOME/tornado-argfile)";
        try {
            Class.forName(impl, false, TornadoRuntime.class.getClassLoader());
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return "the TornadoVM runtime class " + impl + " cannot be loaded: " + e;
        }
    }
}
