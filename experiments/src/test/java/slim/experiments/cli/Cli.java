package slim.experiments.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import slim.nn.Shared;

/** What the command-line tests share: the built-in models, a tiny protocol, and `slim` run in this process. */
final class Cli {
    static final String STORIES = Shared.resolve("models", "stories260K").toString();
    static final String MINILM = Shared.resolve("models", "all-MiniLM-L6-v2").toString();
    /** A protocol small enough that a cell takes a second or two. */
    static final String[] TINY = {
        "--train", "6", "--val", "4", "--test", "6", "--epochs", "1", "--max-prompt-tokens", "64"
    };

    private Cli() {}

    record Run(int code, String out, String err) {}

    /** `slim args...`: its exit code, what it printed and what it wrote to stderr. */
    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true));
        try {
            int code = cli.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    /** The words of a command line; each %s takes the next value whole, so that a path may hold spaces. */
    static String[] args(String line, Object... values) {
        List<String> words = new ArrayList<>();
        int next = 0;
        for (String word : line.strip().split("\\s+")) {
            words.add(word.equals("%s") ? String.valueOf(values[next++]) : word);
        }
        if (next != values.length) throw new IllegalArgumentException(values.length + " values for " + next + " %s");
        return words.toArray(String[]::new);
    }

    /** args(line, values) on the tiny protocol. */
    static String[] tiny(String line, Object... values) {
        List<String> words = new ArrayList<>(List.of(args(line, values)));
        words.addAll(List.of(TINY));
        return words.toArray(String[]::new);
    }
}
