package slim.tornado;

/**
 * Whether this JVM runs with TornadoVM's runtime: the SDK's argfile sets the property naming the
 * runtime class. Checked before any TornadoVM class is touched, since without the runtime their
 * static initialisers fail and leave the classes unusable for the rest of the JVM's life. The one
 * check: the tests here ask it directly, the CLI's --backend by name (it cannot depend on this module).
 */
public final class TornadoRuntime {
    private TornadoRuntime() {}

    /** Null when the runtime is present, else why not, in one line. */
    public static String missing() {
        String impl = System.getProperty("tornado.load.runtime.implementation");
        if (impl == null) {
            return "this JVM was not started with TornadoVM"
                    + " (run java @$TORNADOVM_HOME/tornado-argfile, see tornado/README.md)";
        }
        try {
            Class.forName(impl, false, TornadoRuntime.class.getClassLoader());
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return "the TornadoVM runtime class " + impl + " cannot be loaded: " + e;
        }
    }
}
