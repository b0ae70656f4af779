package slim.experiments.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import slim.nn.SlimException;

/** Checks made before training starts, so a long run does not end in an error it could have seen coming. */
final class SaveChecks {
    private SaveChecks() {}

    static void requireFresh(Path out) {
        if (!Files.exists(out)) return;
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isPresent())
                throw new SlimException(out + ": already exists and is not empty; choose a new folder for --save");
        } catch (IOException e) {
            throw new SlimException(out + ": exists and is not a readable folder; choose a new folder for --save");
        }
    }
}
