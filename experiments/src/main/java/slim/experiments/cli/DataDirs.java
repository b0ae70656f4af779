package slim.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import slim.data.Datasets;
import slim.nn.Shared;
import slim.nn.SlimException;

/** Where the datasets are when --data is not given. */
final class DataDirs {
    private DataDirs() {}

    /**
     * --data when given; else $SLIM_DATA or the download cache (`slim data fetch`) when it exists;
     * else the repository's ../shared/datasets; else the cache path, whose absence load() explains.
     */
    static Path resolve(Path given) {
        if (given != null) return given;
        Path cache = Datasets.defaultDir();
        if (System.getenv(Datasets.DATA_ENV) != null || Files.isDirectory(cache)) return cache;
        try {
            Path shared = Shared.resolve("datasets");
            if (Files.isDirectory(shared)) return shared;
        } catch (SlimException e) {
            // no shared folder: fall back to the cache path
        }
        return cache;
    }
}
