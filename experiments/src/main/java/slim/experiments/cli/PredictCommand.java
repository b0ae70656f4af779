package slim.experiments.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import slim.data.Task;
import slim.experiments.SavedModel;
import slim.nn.SlimException;

/**
 * `slim predict DIR --task sst2 "text"...`: a label and its probabilities per text, from a model saved by train --save.
 */
@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Classify texts with a model written by `slim train --save`.",
            "One output line per text: LABEL<TAB>PROBABILITY<TAB>TEXT; with --all every label's probability"
                    + " before the text; with --json one JSON object per line (text, label, probability,"
                    + " probabilities, shortened). A prompt longer than the model was trained with is shortened"
                    + " as in training, and stderr says how many were. Texts come from the command line, or one per"
                    + " line from a file or standard input (--input FILE, or - for stdin)."
        })
final class PredictCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "folder written by slim train --save")
    Path dir;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "TEXT", description = "texts to classify")
    List<String> texts;

    @Option(
            names = {"-i", "--input"},
            paramLabel = "FILE",
            description = "classify each line of FILE (- reads standard input), after any TEXT")
    String input;

    @Option(
            names = "--task",
            paramLabel = "TASK",
            description = "the task the model was fine-tuned for (checked; default: the one it was saved with)")
    Task task;

    @Option(names = "--all", description = "print every label's probability (label=p, in the task's label order)")
    boolean all;

    @Option(names = "--json", description = "print one JSON object per text (JSON Lines)")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if ((texts == null || texts.isEmpty()) && input == null) {
            throw Options.usage(spec, "Nothing to classify: give TEXT arguments or --input FILE (- for stdin)");
        }
        try (SavedModel model = SavedModel.open(dir, task);
                Stream<String> lines = lines()) {
            List<String> labels = model.task().labels();
            int all = 0, shortened = 0;
            Iterable<String> each = Stream.concat(texts != null ? texts.stream() : Stream.empty(), lines)::iterator;
            for (String text : each) {
                SavedModel.Answer answer = model.classify(text);
                all++;
                if (answer.shortened()) shortened++;
                System.out.println(line(text, labels, answer));
                System.out.flush();
            }
            if (shortened > 0) {
                spec.commandLine()
                        .getErr()
                        .printf(
                                "slim predict: %d of %d prompts were longer than the %d tokens this model was trained"
                                        + " with and were shortened as in training (the demonstrations' texts first,"
                                        + " then the input's end)%s%n",
                                shortened, all, model.maxPromptTokens(), json ? "; they have \"shortened\": true" : "");
            }
        } catch (UncheckedIOException e) {
            throw new SlimException(input + ": cannot read: " + e.getCause().getMessage(), e);
        }
        return 0;
    }

    /** The lines of --input, read as they are classified (a pipe's first answers come before it ends). */
    private Stream<String> lines() throws IOException {
        if (input == null) return Stream.empty();
        if (input.equals("-"))
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines();
        Path file = Path.of(input);
        if (!Files.isRegularFile(file)) throw new SlimException(file + ": no such file (--input)");
        return Files.lines(file, StandardCharsets.UTF_8);
    }

    private String line(String text, List<String> labels, SavedModel.Answer answer) {
        float[] p = answer.probabilities();
        int best = 0;
        for (int c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
        if (json) {
            ObjectNode o = JSON.createObjectNode()
                    .put("text", text)
                    .put("label", labels.get(best))
                    .put("probability", p[best]);
            ObjectNode each = o.putObject("probabilities");
            for (int c = 0; c < p.length; c++) each.put(labels.get(c), p[c]);
            o.put("shortened", answer.shortened());
            return o.toString();
        }
        StringBuilder b = new StringBuilder(labels.get(best)).append('\t').append(format(p[best]));
        if (all) {
            b.append('\t');
            for (int c = 0; c < p.length; c++)
                b.append(c > 0 ? " " : "").append(labels.get(c)).append('=').append(format(p[c]));
        }
        // one line per text, whatever the text holds
        return b.append('\t')
                .append(text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' '))
                .toString();
    }

    private static String format(float p) {
        return String.format(Locale.ROOT, "%.4f", p);
    }
}
