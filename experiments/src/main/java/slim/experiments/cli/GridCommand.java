package slim.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.CellCost;
import slim.experiments.Experiment;
import slim.experiments.Grid;
import slim.experiments.GridPlan;
import slim.experiments.GridStatus;
import slim.experiments.LayerChoice;
import slim.experiments.ProgressBar;
import slim.experiments.Protocol;
import slim.nn.SlimException;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerSelection;

/** `slim grid`: the study's cross product, resumable and shardable. */
@Command(
        name = "grid",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the cross product of models, k values, tasks, settings and seeds, one result per cell.",
            "Cells with a result are skipped, so a killed grid resumes where it stopped; --shard i/n runs shard i"
                    + " (0 <= i < n) of n of about equal cost, so that n processes split a grid, and a cell another"
                    + " process is running is left to it; --slurm writes the grid as a Slurm job array."
                    + " lm-prompt is skipped for encoders."
                    + " Each list option also takes its singular name (--model, --task, --setting, --seed)."
        })
final class GridCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = {"--models", "--model"},
            split = ",",
            paramLabel = "DIR",
            description = "model folders (comma-separated); required except with --status alone")
    List<Path> models;

    @Option(
            names = "--status",
            paramLabel = "OUT",
            description = "say where the grids started in OUT stand (done, failed and why, running and where,"
                    + " missing, per model and k) and what to run to finish them, instead of running anything;"
                    + " with the grid's options, for that grid's cells")
    Path status;

    @Option(
            names = {"-k", "--keep"},
            split = ",",
            paramLabel = "k",
            description = "kept-layer counts (comma-separated), e.g. 1,2,5")
    List<Integer> ks = List.of();

    @Option(
            names = "--select",
            split = ",",
            paramLabel = "HOW",
            defaultValue = "first",
            description = "how each k's layers are chosen (comma-separated): first (the study's), bi (highest Block"
                    + " Influence), angular (drop the most similar block), scored on each cell's training prompts"
                    + " (default: ${DEFAULT-VALUE})")
    List<String> select;

    @Option(
            names = "--layers",
            paramLabel = "SPEC",
            description = "a kept set by original index, e.g. 0-3,7,11; repeat for more sets (with or without -k)")
    List<KeptLayers> layerSets = List.of();

    @Option(
            names = {"--tasks", "--task"},
            split = ",",
            paramLabel = "TASK",
            description = "tasks (default: all four)")
    List<Task> tasks;

    @Option(
            names = {"--settings", "--setting"},
            split = ",",
            paramLabel = "SETTING",
            description = "settings (default: lm-prompt,cls-prompt,cls-plain)")
    List<Setting> settings;

    @Option(
            names = {"--seeds", "--seed"},
            split = ",",
            paramLabel = "N",
            description = "seeds (default: the study's 0,42,421,520,1218)")
    List<Integer> seeds;

    @Mixin
    Options.PoolingChoice pooling;

    @Mixin
    Options.ResultsFolder out;

    @Option(
            names = "--shard",
            paramLabel = "i/n",
            description = "run only shard i of n (0-based), e.g. $SLURM_ARRAY_TASK_ID/4")
    String shard;

    @Option(names = "--retry-failed", description = "run again the cells whose result is a failure")
    boolean retryFailed;

    @Mixin
    RunOptions run;

    @Mixin
    SlurmOptions slurm;

    @Override
    public Integer call() {
        if (status != null && models == null) return printStatus(GridPlan.read(status));
        if (models == null) throw Options.usage(spec, "Missing required option: '--models=DIR'");
        Protocol protocol = run.protocol(Protocol.study());
        Grid.Shard s = shard();
        List<Cell> cells = Experiment.cells(
                models,
                choices(),
                tasks != null ? tasks : List.of(Task.values()),
                settings != null ? settings : List.of(Setting.values()),
                seeds != null ? seeds : Split.STUDY_SEEDS,
                pooling.pooling);
        if (status != null) {
            out.dir = status; // the command that finishes the grid must write into the folder being read
            return printStatus(List.of(GridPlan.of(command(), cells)));
        }
        boolean writeScripts = slurm.requested(shard);
        run.data.data = run.data.resolve(); // resolved here, so that a --slurm script's tasks read the same folder
        Experiment experiment = run.experiment(protocol);
        for (Cell c : cells) experiment.dataset(c.task()); // shards are balanced by every cell's prompt length
        Grid grid = new Grid(out.dir, ProgressBar.stderr(), retryFailed, experiment::origin)
                .costs(new CellCost(experiment));
        GridPlan.of(command(), cells).write(out.dir);
        if (writeScripts) return slurm.write(grid.shards(cells, slurm.shards), cells.size(), out.dir);
        Grid.Counts counts = grid.run(cells, s, protocol, experiment::run);
        String elsewhere = counts.elsewhere() > 0 ? ", " + counts.elsewhere() + " ran in another process" : "";
        System.out.printf(
                "%d cells in the grid, %d in this shard: %d were done already, %d ran now (%d failed)%s."
                        + " Report: slim report %s%n",
                counts.cells(),
                counts.inShard(),
                counts.alreadyDone(),
                counts.ran(),
                counts.failed(),
                elsewhere,
                out.dir);
        int failed = counts.failed() + counts.failedBefore();
        if (failed > 0) {
            System.out.printf(
                    "%d cells have failed results (%d from earlier runs); fix the cause and run again with"
                            + " --retry-failed to retry them%n",
                    failed, counts.failedBefore());
        }
        return failed == 0 ? 0 : Errors.FAILED;
    }

    private int printStatus(List<GridPlan> plans) {
        if (!Files.isDirectory(status)) throw new SlimException(status + ": no such results folder");
        if (plans.isEmpty()) {
            throw new SlimException(
                    status + ": no grid was started here by this version of slim (no .slim/grid-*.json);"
                            + " give the grid's options too: slim grid --status " + status + " --models ... -k ...");
        }
        System.out.print(GridStatus.of(status, plans).text(status));
        return 0;
    }

    /**
     * This grid's command line, paths absolute, to run again what is unfinished (--retry-failed is added where needed).
     */
    private String command() {
        return "slim grid "
                + SlurmOptions.arguments(spec).stream()
                        .filter(words -> !words.getFirst().equals("--retry-failed"))
                        .flatMap(List::stream)
                        .map(SlurmScript::quote)
                        .collect(Collectors.joining(" "));
    }

    /** Each k by each selection, then each given set. */
    private List<LayerChoice> choices() {
        if (ks.isEmpty() && layerSets.isEmpty()) {
            throw Options.usage(spec, "Missing required option: '--keep=k' or '--layers=SPEC'");
        }
        List<LayerSelection> selections;
        try {
            selections =
                    select.stream().map(LayerSelection::fromLabel).distinct().toList();
        } catch (SlimException e) {
            throw Options.usage(spec, "--select: " + e.getMessage());
        }
        List<LayerChoice> choices = new ArrayList<>();
        for (int k : ks) for (LayerSelection s : selections) choices.add(LayerChoice.selected(k, s));
        for (KeptLayers set : layerSets) choices.add(LayerChoice.given(set));
        return choices.stream().distinct().toList(); // --layers 0-1 is -k 2
    }

    private Grid.Shard shard() {
        try {
            return shard == null ? Grid.Shard.ALL : Grid.Shard.parse(shard);
        } catch (IllegalArgumentException e) {
            throw Options.usage(spec, e.getMessage());
        }
    }
}
