package slim.experiments.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.nn.model.KeptLayers;
import slim.nn.model.ModelConfig;
import slim.nn.model.ModelFiles;

/** `slim prune DIR --keep k | --layers SPEC --out OUT`: a Hugging Face checkpoint of the kept layers. */
@Command(
        name = "prune",
        mixinStandardHelpOptions = true,
        description = {
            "Write a Hugging Face checkpoint that keeps only the first k layers, or the layers --layers"
                    + " names (renumbered 0..n-1, the config's layer count n).",
            "Every other tensor (BERT's pooler, a head) is kept, each in its source dtype."
        })
final class PruneCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Hugging Face model folder")
    Path dir;

    @Mixin
    Options.Keep keep;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "OUT",
            description = "new folder to write (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() {
        KeptLayers kept = keep.required(ModelConfig.read(dir));
        ModelFiles.Pruned p = ModelFiles.prune(dir, kept, out);
        System.out.printf(
                "wrote %s: %d of %d layers%s, %,d parameters%n",
                out,
                kept.count(),
                p.layout().config().layers(),
                kept.isFirst() ? "" : " (" + kept.format() + ", renumbered 0-" + (kept.count() - 1) + ")",
                p.layout().size());
        if (!p.extra().isEmpty()) {
            System.out.println("also kept (not computed by slim): " + String.join(", ", p.extra()));
        }
        if (!p.leftOut().isEmpty()) {
            System.out.println("left out (not float tensors; transformers rebuilds such buffers): "
                    + String.join(", ", p.leftOut()));
        }
        return 0;
    }
}
