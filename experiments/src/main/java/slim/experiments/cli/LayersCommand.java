package slim.experiments.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.data.Setting;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.Experiment;
import slim.experiments.LayerChoice;
import slim.experiments.LayerScoreFiles;
import slim.experiments.Protocol;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.ModelConfig;

/** `slim layers DIR --task T`: how much each layer changes its input, and which layers each selection keeps. */
@Command(
        name = "layers",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Score a model's layers on prompts of a task's training split (forward passes only): Block"
                    + " Influence per layer (1 - cos(input, output), over all tokens and at the last token) and the"
                    + " last"
                    + " token's angular distance across every block of n layers from l, averaged over the prompts.",
            "Writes layers.csv, layers-angular.png (block size against start layer) and layers-bi.png, and prints"
                    + " the layers each selection keeps: first (the study's), bi (the k of highest BI), angular"
                    + " (drop the block of n-k layers whose input and output are closest)."
        })
final class LayersCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Hugging Face model folder")
    Path model;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "agnews, emocontext, sst2 or trec")
    Task task;

    @Option(
            names = "--setting",
            defaultValue = "cls-plain",
            paramLabel = "SETTING",
            description = "which prompts: lm-prompt, cls-prompt or cls-plain (default: ${DEFAULT-VALUE})")
    Setting setting;

    @Option(
            names = "--examples",
            defaultValue = "32",
            paramLabel = "N",
            description = "training prompts scored: the first N of the seed's split (default: ${DEFAULT-VALUE})")
    int examples;

    @Mixin
    Options.Seed seed;

    @Option(
            names = {"-k", "--keep"},
            paramLabel = "k",
            description = "print the layers each selection keeps for k" + " (default: half the model's layers)")
    Integer keep;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "folder for the files (default: results/layers/MODEL_TASK_SETTING_sSEED)")
    Path out;

    @Option(
            names = "--max-prompt-tokens",
            paramLabel = "N",
            description = "shorten longer prompts (demonstrations first) to N tokens (default: the model's context)")
    Integer maxPromptTokens;

    @Mixin
    Options.PoolingChoice pooling;

    @Mixin
    Options.Data data;

    @Mixin
    Options.BackendChoice backend;

    @Override
    public Integer call() {
        ModelConfig config = ModelConfig.read(model);
        int k = keep != null ? keep : Math.max(1, config.layers() / 2);
        config.checkKeptLayers(k);
        Cell cell = Cell.of(model, LayerChoice.first(config.layers()), task, setting, seed.seed, pooling.pooling);
        cell.validate();
        // Only the training prompts are scored; validation and test are drawn as the split draws them, one each.
        Protocol prompts = Protocol.builder()
                .examples(examples, 1, 1)
                .maxPromptTokens(maxPromptTokens == null ? 0 : maxPromptTokens)
                .build();
        LayerScores scores =
                new Experiment(data.resolve(), prompts).on(backend.resolve()).layerScores(cell);
        Path dir = out != null
                ? out
                : Path.of(
                        "results",
                        "layers",
                        cell.modelName() + "_" + task.id() + "_" + setting.id() + "_s" + seed.seed);
        LayerScoreFiles.write(scores, cell.modelName() + ", " + task.id() + " " + setting.id(), dir);

        System.out.printf(
                "%s: %d layers scored on %d %s %s training prompts (seed %d)%n",
                cell.modelName(), scores.layers(), scores.prompts(), task.id(), setting.id(), seed.seed);
        System.out.println("layer  BI (all tokens)  BI (last token)  angular distance to the next layer");
        for (int l = 0; l < scores.layers(); l++) {
            System.out.printf(
                    "%5d  %15.4f  %15.4f  %10.4f%n", l, scores.biAll()[l], scores.biLast()[l], scores.angular(1, l));
        }
        System.out.printf("%nkeeping %d of %d layers:%n", k, scores.layers());
        for (Map.Entry<String, KeptLayers> e : LayerScoreFiles.keptBy(scores, k).entrySet()) {
            System.out.printf("  %-8s %s%n", e.getKey(), e.getValue().format());
        }
        System.out.printf(
                "%nwrote %s, %s, %s in %s%n", LayerScoreFiles.CSV, LayerScoreFiles.HEATMAP, LayerScoreFiles.BARS, dir);
        return 0;
    }
}
