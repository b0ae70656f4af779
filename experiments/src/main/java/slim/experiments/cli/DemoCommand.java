package slim.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.Experiment;
import slim.experiments.Grid;
import slim.experiments.LayerChoice;
import slim.experiments.ProgressBar;
import slim.experiments.Protocol;
import slim.experiments.Report;
import slim.experiments.ResultFiles;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.model.LayerSelection;

/**
 * `slim demo`: the study end to end on the two built-in real models, on a shortened protocol sized
 * to finish in 6-8 minutes on two cores; --full runs the study's protocol instead.
 * Resumable like a grid: run it again to finish a killed demo.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the study end to end on the built-in models and print its three tables and Figure 2.",
            "stories260K (a 5-layer Llama) in all three settings with k = 1, 2, 5, and all-MiniLM-L6-v2 (a 6-layer"
                    + " BERT encoder) in the two classification settings with k = 1, 2, 6, on the four tasks. The"
                    + " default protocol is shortened: it takes 6-8 minutes on 2 cores; --full runs the study's."
                    + " Resumable like a grid: run it again to finish a killed demo."
        })
final class DemoCommand implements Callable<Integer> {

    /**
     * stories260K: tiny, so it affords more examples; prompts capped where the 512-piece vocabulary makes them long.
     */
    static final Protocol DECODER_DEMO = Protocol.builder()
            .examples(64, 64, 200)
            .epochs(4)
            .patience(4)
            .maxPromptTokens(256)
            .build();
    /**
     * all-MiniLM-L6-v2: 22M parameters, most of them the 30522-word embedding table, whose dense AdamW update
     * would cost five times the rest of a step at these prompt lengths; it is frozen (accuracy is the same
     * on SST-2, see the README), and prompts are capped shorter.
     */
    static final Protocol ENCODER_DEMO = Protocol.builder()
            .examples(48, 48, 200)
            .epochs(3)
            .patience(3)
            .maxPromptTokens(96)
            .freezeEmbeddings(true)
            .build();

    @Option(
            names = "--full",
            description = "the study's protocol: 200/1000/1000 examples, 50 epochs, patience 15, five seeds")
    boolean full;

    @Option(
            names = {"--seeds", "--seed"},
            split = ",",
            paramLabel = "N",
            description = "seeds (default: 0; with --full the study's five)")
    List<Integer> seeds;

    @Option(names = "--decoder-only", description = "only stories260K (skip the encoder)")
    boolean decoderOnly;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "results folder (default: results/demo, or results/demo-full)")
    Path out;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() {
        Path decoder = Shared.resolve("models", "stories260K"), encoder = Shared.resolve("models", "all-MiniLM-L6-v2");
        Path results = out != null ? out : Path.of(full ? "results/demo-full" : "results/demo");
        List<Integer> seedList = seeds != null ? seeds : full ? Split.STUDY_SEEDS : List.of(0);

        List<Run> runs = new ArrayList<>();
        runs.add(Run.of(
                decoder,
                first(1, 2, 5),
                List.of(Task.values()),
                List.of(Setting.values()),
                seedList,
                options.protocol(full ? Protocol.study() : DECODER_DEMO)));
        if (!decoderOnly) {
            Protocol encoderProtocol = options.protocol(full ? Protocol.study() : ENCODER_DEMO);
            runs.add(Run.of(
                    encoder,
                    first(1, 2, 6),
                    List.of(Task.values()),
                    List.of(Setting.CLS_PROMPT, Setting.CLS_PLAIN),
                    seedList,
                    encoderProtocol));
            // which layers to keep: the alternatives to the first k, against the first k run above
            List<LayerChoice> selected = new ArrayList<>();
            for (int k : List.of(1, 2)) {
                for (LayerSelection s : List.of(LayerSelection.BI, LayerSelection.ANGULAR)) {
                    selected.add(LayerChoice.selected(k, s));
                }
            }
            runs.add(Run.of(
                    encoder,
                    selected,
                    List.of(Task.SST2, Task.TREC),
                    List.of(Setting.CLS_PLAIN),
                    seedList,
                    encoderProtocol));
        }
        ProgressBar bar = ProgressBar.stderr();
        System.out.println(
                "slim demo: " + (full ? "the study's protocol" : "a SHORTENED protocol (--full for the study's)")
                        + ", seeds " + seedList + ", results in " + results);
        for (Run run : runs) System.out.println("  " + describe(run));
        System.out.println();

        long start = System.nanoTime();
        Experiment datasets = options.experiment(runs.getFirst().protocol());
        for (Task t : Task.values()) datasets.dataset(t);
        int failed = 0;
        for (Run run : runs) {
            Experiment experiment = datasets.with(run.protocol());
            Grid.Counts s = new Grid(results, bar, false, experiment::origin)
                    .run(run.cells, Grid.Shard.ALL, run.protocol, experiment::run);
            failed += s.failed();
        }
        Report report = Report.of(ResultFiles.readAll(results), ReportCommand.paperTables(null));
        Path png = report.write(results.resolve("report"));
        System.out.println();
        System.out.print(report.markdown());
        System.out.println();
        System.out.printf(
                "Demo finished in %s. Tables: %s, %s; Figure 2: %s%n",
                ProgressBar.duration((System.nanoTime() - start) / 1e9),
                results.resolve("report/tables.md"),
                results.resolve("report/tables.csv"),
                png);
        if (!Files.isRegularFile(png)) throw new SlimException(png + ": the figure was not written");
        return failed == 0 ? 0 : Errors.FAILED;
    }

    private static List<LayerChoice> first(Integer... ks) {
        return Stream.of(ks).map(LayerChoice::first).toList();
    }

    private static String describe(Run run) {
        Protocol p = run.protocol;
        return String.format(
                "%s: %s, %s, %s; %d cells; %d train / %d val / <=%d test examples, <=%d epochs (patience %d), "
                        + "lr %s, prompts <=%s tokens%s",
                run.model.getFileName(),
                run.layers,
                run.tasks.stream().map(Task::id).toList(),
                run.settings.stream().map(Setting::id).toList(),
                run.cells.size(),
                p.trainExamples(),
                p.valExamples(),
                p.testExamples(),
                p.epochs(),
                p.patience(),
                p.lr(),
                p.maxPromptTokens() > 0 ? p.maxPromptTokens() : "context",
                p.freezeEmbeddings() ? ", word embeddings frozen" : "");
    }

    /** One part of the demo: a model's cells, and their protocol. */
    private record Run(
            Path model,
            List<LayerChoice> layers,
            List<Task> tasks,
            List<Setting> settings,
            Protocol protocol,
            List<Cell> cells) {
        static Run of(
                Path model,
                List<LayerChoice> layers,
                List<Task> tasks,
                List<Setting> settings,
                List<Integer> seeds,
                Protocol protocol) {
            return new Run(
                    model,
                    layers,
                    tasks,
                    settings,
                    protocol,
                    Experiment.cells(List.of(model), layers, tasks, settings, seeds, null));
        }
    }
}
