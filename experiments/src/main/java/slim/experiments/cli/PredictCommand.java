package slim.experiments.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.data.Task;
import slim.experiments.SavedModel;

/** `slim predict DIR --task sst2 "text"...`: a label and its probability per text, from a model saved by train --save. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classify texts with a model written by `slim train --save`: prints the label and its probability.")
final class PredictCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "folder written by slim train --save")
    Path dir;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "texts to classify")
    List<String> texts;

    @Option(names = "--task", paramLabel = "TASK", converter = Converters.TaskConverter.class,
            description = "the task the model was fine-tuned for (checked; default: the one it was saved with)")
    Task task;

    @Override
    public Integer call() {
        try (SavedModel model = SavedModel.open(dir, task)) {
            List<String> labels = model.task().labels();
            for (String text : texts) {
                float[] p = model.classify(text);
                int best = 0;
                for (int c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
                System.out.printf("%s\t%.3f\t%s%n", labels.get(best), p[best], text);
            }
        }
        return 0;
    }
}
