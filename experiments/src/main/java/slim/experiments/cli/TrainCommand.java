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
import slim.experiments.Grid;
import slim.experiments.LayerChoice;
import slim.experiments.ProgressBar;
import slim.experiments.Protocol;
import slim.experiments.Result;
import slim.experiments.ResultFiles;
import slim.experiments.ResultText;
import slim.nn.SlimException;
import slim.nn.model.ModelConfig;

/** `slim train`: one cell of the study, its result written as JSON. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Fine-tune the first k layers of a model on one task and setting, and evaluate it.",
            "Early-stops on validation accuracy and tests the best epoch. Writes the cell's result (configuration,"
                    + " split, curves, test accuracy, cost) as JSON into --out, with its per-example predictions"
                    + " beside it."
        })
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder")
    Path model;

    @Mixin
    Options.Keep keep;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "agnews, emocontext, sst2 or trec")
    Task task;

    @Option(
            names = "--setting",
            required = true,
            paramLabel = "SETTING",
            description = "lm-prompt, cls-prompt or cls-plain")
    Setting setting;

    @Mixin
    Options.Seed seed;

    @Mixin
    Options.PoolingChoice pooling;

    @Mixin
    Options.ResultsFolder out;

    @Option(
            names = "--save",
            paramLabel = "DIR",
            description = "also write the fine-tuned, pruned model here as a Hugging Face folder")
    Path save;

    @Mixin
    RunOptions run;

    @Override
    public Integer call() {
        Protocol protocol = run.protocol(Protocol.study());
        LayerChoice layers = LayerChoice.given(keep.required(ModelConfig.read(model)));
        Cell cell = Cell.of(model, layers, task, setting, seed.seed, pooling.pooling);
        cell.validate();
        if (pooling.pooling != null && cell.pooling() != pooling.pooling) {
            throw new SlimException(
                    "--pooling applies to encoders; " + model + " is a decoder, whose head reads the last token");
        }
        if (save != null) {
            Leftovers.clean(save.toAbsolutePath().getParent());
            SaveChecks.requireFresh(save);
        }
        Leftovers.clean(out.dir);
        Path file = ResultFiles.file(out.dir, cell);
        Experiment experiment = run.experiment(protocol);
        experiment.dataset(task);
        Grid.requireSameOrigin(file, protocol, experiment.origin(cell));
        ProgressBar bar = ProgressBar.stderr();
        bar.log("training " + cell);
        CellProgress progress = new CellProgress(bar, cell, 0, 1, System.nanoTime(), protocol.epochs());
        Result[] kept = new Result[1];
        Result r;
        try {
            r = experiment.run(cell, progress, save, result -> {
                ResultFiles.writeResult(file, result);
                kept[0] = result;
            });
        } catch (SlimException e) {
            if (kept[0] == null) throw e;
            bar.clear();
            ResultText.print(System.out, kept[0]);
            System.out.println("result: " + file);
            throw new SlimException(
                    "training finished and its result is kept in " + file + ", but the model was not saved: "
                            + e.getMessage(),
                    e);
        }
        bar.clear();
        ResultText.print(System.out, r);
        System.out.println("result: " + file);
        if (save != null && r.ok()) {
            System.out.println(
                    "model:  " + save + " (try: slim predict " + save + " --task " + task.id() + " \"some text\")");
        }
        return r.ok() ? 0 : Errors.FAILED;
    }
}
