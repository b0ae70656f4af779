package slim.experiments.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import slim.data.Setting;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.CellProgress;
import slim.experiments.Experiment;
import slim.experiments.ProgressBar;
import slim.experiments.Protocol;
import slim.experiments.Result;
import slim.experiments.ResultFiles;
import slim.nn.SlimException;
import slim.nn.model.Pooling;

/** `slim train`: one cell of the study, its result written as JSON. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune the first k layers of a model on one task and setting, and evaluate it.",
                "Writes the cell's result (configuration, split, validation curve, test accuracy, cost) as JSON."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder")
    Path model;

    @Option(names = {"--keep", "-k"}, required = true, paramLabel = "k", description = "number of layers kept (1..the model's)")
    int keep;

    @Option(names = "--task", required = true, paramLabel = "TASK", converter = Converters.TaskConverter.class,
            description = "agnews, emocontext, sst2 or trec")
    Task task;

    @Option(names = "--setting", required = true, paramLabel = "SETTING", converter = Converters.SettingConverter.class,
            description = "lm-prompt, cls-prompt or cls-plain")
    Setting setting;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "draws the split, the head and the order (default: ${DEFAULT-VALUE})")
    int seed;

    @Option(names = "--pooling", paramLabel = "POOLING", converter = Converters.PoolingConverter.class,
            description = "encoders: the classification head reads [CLS] (cls) or the mean of all positions (mean, the default)")
    Pooling pooling;

    @Option(names = "--data", paramLabel = "DIR", description = "datasets folder (default: $SLIM_DATA, the download cache, or ../shared/datasets)")
    Path data;

    @Option(names = "--out", defaultValue = "results", paramLabel = "DIR", description = "folder for the result JSON (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--save", paramLabel = "DIR", description = "also write the fine-tuned, pruned model here as a Hugging Face folder")
    Path save;

    @Mixin
    ProtocolOptions protocolOptions;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() {
        Protocol protocol = protocolOptions.apply(Protocol.study());
        Cell cell = Cell.of(model, keep, task, setting, seed, pooling);
        cell.validate();
        if (pooling != null && cell.pooling() != pooling) {
            throw new SlimException("--pooling applies to encoders; " + model + " is a decoder, whose head reads the last token");
        }
        if (save != null) SaveChecks.requireFresh(save);
        Experiment experiment = new Experiment(DataDirs.resolve(data), protocol).on(backend.resolve());
        experiment.dataset(task);
        ProgressBar bar = ProgressBar.stderr();
        bar.log("training " + cell);
        Result r = experiment.run(cell, new CellProgress(bar, cell, 0, 1, System.nanoTime(), protocol.epochs()), save);
        bar.clear();
        Path file = ResultFiles.file(out, cell);
        ResultFiles.write(file, r);
        Summary.print(System.out, r);
        System.out.println("result: " + file);
        if (save != null && r.ok()) System.out.println("model:  " + save + " (try: slim predict " + save + " --task " + task.id() + " \"some text\")");
        return r.ok() ? 0 : 3;
    }
}
