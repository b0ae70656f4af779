package slim.experiments.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.Experiment;
import slim.experiments.Grid;
import slim.experiments.ProgressBar;
import slim.experiments.Protocol;
import slim.nn.model.Pooling;

/** `slim grid`: the study's cross product, resumable and shardable. */
@Command(name = "grid", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the cross product of models, k values, tasks, settings and seeds, one result JSON per cell.",
                "Cells with a result are skipped, so a killed grid resumes where it stopped; --shard i/n runs every",
                "n-th cell (0 <= i < n) so that n processes split a grid. lm-prompt is skipped for encoders."})
final class GridCommand implements Callable<Integer> {

    @Option(names = "--models", required = true, split = ",", paramLabel = "DIR", description = "model folders (comma-separated)")
    List<Path> models;

    @Option(names = {"--k", "--keep"}, required = true, split = ",", paramLabel = "k", description = "kept-layer counts, e.g. 1,2,5")
    List<Integer> ks;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK", converter = Converters.TaskConverter.class,
            description = "tasks (default: all four)")
    List<Task> tasks;

    @Option(names = "--settings", split = ",", paramLabel = "SETTING", converter = Converters.SettingConverter.class,
            description = "settings (default: lm-prompt,cls-prompt,cls-plain)")
    List<Setting> settings;

    @Option(names = "--seeds", split = ",", paramLabel = "N", description = "seeds (default: the study's 0,42,421,520,1218)")
    List<Integer> seeds;

    @Option(names = "--pooling", paramLabel = "POOLING", converter = Converters.PoolingConverter.class,
            description = "encoders: classification head on [CLS] (cls) or the mean of all positions (mean, the default)")
    Pooling pooling;

    @Option(names = "--out", defaultValue = "results", paramLabel = "DIR", description = "results folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--shard", paramLabel = "i/n", description = "run only shard i of n (0-based), e.g. $SLURM_ARRAY_TASK_ID/4")
    String shard;

    @Option(names = "--retry-failed", description = "run again the cells whose result is a failure")
    boolean retryFailed;

    @Option(names = "--data", paramLabel = "DIR", description = "datasets folder (default: $SLIM_DATA, the download cache, or ../shared/datasets)")
    Path data;

    @Mixin
    ProtocolOptions protocolOptions;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() {
        Protocol protocol = protocolOptions.apply(Protocol.study());
        Grid.Shard s = shard == null ? Grid.Shard.ALL : Grid.Shard.parse(shard);
        List<Cell> cells = Experiment.crossProduct(models, ks, tasks != null ? tasks : List.of(Task.values()),
                settings != null ? settings : List.of(Setting.values()), seeds != null ? seeds : Split.STUDY_SEEDS, pooling);
        Experiment experiment = new Experiment(DataDirs.resolve(data), protocol).on(backend.resolve());
        for (Cell c : Grid.shard(cells, s)) experiment.dataset(c.task());
        ProgressBar bar = ProgressBar.stderr();
        Grid.Summary summary = new Grid(out, bar, retryFailed).run(cells, s, protocol, (cell, listener) -> experiment.run(cell, listener, null));
        System.out.printf("%d cells in the grid, %d in this shard: %d were done already, %d ran now (%d failed). Report: slim report %s%n",
                summary.cells(), summary.inShard(), summary.alreadyDone(), summary.ran(), summary.failed(), out);
        return summary.failed() == 0 ? 0 : 3;
    }
}
