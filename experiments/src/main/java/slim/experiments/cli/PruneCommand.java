package slim.experiments.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.nn.model.Model;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;

/** `slim prune DIR --keep k --out OUT`: a Hugging Face checkpoint of the first k layers. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face checkpoint that keeps only the first k decoder layers.")
final class PruneCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Hugging Face model folder")
    Path dir;

    @Mixin
    Options.Keep keep;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "new folder to write (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() {
        // Only the kept layers are read: the model is loaded as it will be written.
        int k = keep.required();
        Model model = ModelFiles.load(dir, k, ModelFiles.Options.builder().maxTokens(1).labels(-1, Pooling.LAST, 0).build());
        ModelFiles.save(model, dir, out);
        System.out.printf("wrote %s: %d of %d layers, %,d parameters%n", out, k, model.config().layers(),
                model.parameterCount());
        return 0;
    }
}
