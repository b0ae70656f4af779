package slim.experiments.cli;

import java.nio.file.Path;
import java.util.List;
import slim.experiments.ResultFiles;

/** Cleans what killed runs left half-written in a folder a command is about to write to, and says so. */
final class Leftovers {
    private Leftovers() {}

    static void clean(Path dir) {
        if (dir == null) return;
        List<String> removed = ResultFiles.cleanLeftovers(dir);
        if (!removed.isEmpty())
            System.err.println("removed what an earlier, killed run left half-written in " + dir + ": "
                    + String.join(", ", removed));
    }
}
