package slim.experiments;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What slim build this is: the project version and the git commit it was built from, written into
 * slim/version.properties by the build (git describe). A build without git (a source archive) knows
 * no commit.
 *
 * @param commit the full commit id, or "unknown"
 * @param dirty  the working tree had changes not in that commit when it was built
 */
public record Version(String version, String commit, boolean dirty) {
    public static final Version CURRENT = read();

    private static Version read() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/slim/version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            // an unreadable resource in our own jar: report what is known, which is nothing
        }
        String commit = filled(p.getProperty("commit"));
        boolean dirty = commit.endsWith("-dirty");
        return new Version(
                filled(p.getProperty("version")), dirty ? commit.substring(0, commit.length() - 6) : commit, dirty);
    }

    /** The value, or "unknown" where the build left the placeholder (no git) or nothing. */
    private static String filled(String value) {
        return value == null || value.isBlank() || value.contains("${") ? "unknown" : value;
    }

    /** "slim 0.1.0-SNAPSHOT (commit 1a2b3c4d5e6f, with uncommitted changes)". */
    @Override
    public String toString() {
        String c = commit.equals("unknown")
                ? "commit unknown"
                : "commit " + commit.substring(0, Math.min(12, commit.length()));
        return "slim " + version + " (" + c + (dirty ? ", with uncommitted changes" : "") + ")";
    }
}
