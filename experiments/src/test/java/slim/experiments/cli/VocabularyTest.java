package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.experiments.cli.Cli.STORIES;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import slim.experiments.Version;

/** One vocabulary across the commands: names, short forms, defaults, usage errors, help texts. */
class VocabularyTest {

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    /**
     * What picocli itself prints (help, version) for the arguments. Its writer is set without replacing
     * System.out, which (in picocli 4.7) sends help to the original stdout instead.
     */
    static String picocliOut(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute(args));
        return out.toString();
    }

    /** Every command of slim, subcommands included. */
    static List<CommandSpec> commands() {
        List<CommandSpec> all = new ArrayList<>();
        List<CommandLine> todo = new ArrayList<>(List.of(Main.commandLine()));
        while (!todo.isEmpty()) {
            CommandLine c = todo.removeFirst();
            all.add(c.getCommandSpec());
            todo.addAll(c.getSubcommands().values());
        }
        return all;
    }

    @Test
    void anOptionHasTheSameNamesAndDefaultWhereverItIs() {
        Map<String, OptionSpec> first = new HashMap<>();
        int shared = 0;
        for (CommandSpec command : commands()) {
            for (OptionSpec o : command.options()) {
                OptionSpec seen = first.putIfAbsent(o.longestName(), o);
                if (seen == null
                        || List.of("--help", "--version", "--out", "--to").contains(o.longestName())) continue;
                String where = o.longestName() + " in " + command.qualifiedName() + " and "
                        + seen.command().qualifiedName();
                if (o.isMultiValue() != seen.isMultiValue()) continue; // grid's lists take the singular name too
                assertEquals(List.of(seen.names()), List.of(o.names()), where);
                // data show may default what train requires (--setting), but never to another value
                if (!o.required() && !seen.required()) assertEquals(seen.defaultValue(), o.defaultValue(), where);
                shared++;
            }
        }
        assertTrue(shared >= 20, "options shared by several commands: " + shared);
        for (CommandSpec command : commands()) {
            OptionSpec keep = command.findOption("--keep");
            if (keep != null) assertTrue(List.of(keep.names()).contains("-k"), command.qualifiedName());
        }
        assertEquals(
                "0",
                commands().stream()
                        .filter(c -> c.qualifiedName().equals("slim data show"))
                        .findFirst()
                        .orElseThrow()
                        .findOption("--seed")
                        .defaultValue(),
                "data show draws the split train and grid draw");
    }

    @Test
    void aMisspelledOptionIsNamedWithWhatWasMeant() {
        Cli.Run r = run("prune", STORIES, "--kep", "2", "--out", "/nonexistent/x");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("Unknown options: '--kep', '2'"), r.err());
        assertTrue(r.err().contains("Possible solutions: --keep"), r.err());
        assertTrue(r.err().contains("See 'slim prune --help'"), r.err());

        Cli.Run grid = run("grid", "--models", STORIES, "--keep", "1", "--setings", "cls-plain");
        assertEquals(2, grid.code());
        assertTrue(
                grid.err().contains("'--setings'")
                        && grid.err().contains("Possible solutions: ")
                        && grid.err().contains(" --settings,"),
                grid.err());
    }

    @Test
    void aGroupWithoutItsSubcommandShowsItsUsageAsAUsageError() {
        Cli.Run r = run("data");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: slim data "), r.err());
        assertTrue(r.err().contains("show") && r.err().contains("fetch"), r.err());
        assertEquals(2, run().code());
    }

    @Test
    void helpSummariesAreWholeSentences() {
        String help = picocliOut("--help").replaceAll("\\s+", " ");
        for (CommandSpec command : commands()) {
            if (command.parent() == null) continue;
            // the first line of a description is the command's summary in its group's list
            String summary = command.usageMessage().description()[0];
            assertTrue(summary.endsWith(".") && !summary.contains("\n"), command.qualifiedName() + ": " + summary);
            if (command.parent().parent() == null) assertTrue(help.contains(summary), summary + " in " + help);
        }
    }

    @Test
    void demoHelpSaysHowLongTheReadmeSaysItTakes() throws IOException {
        String help = picocliOut("demo", "--help").replace("\n", " ").replaceAll(" +", " ");
        String readme = Files.readString(Path.of("../README.md")).replace("\n", " ");
        var duration = Pattern.compile("takes? (\\d+-\\d+ minutes)").matcher(help);
        assertTrue(duration.find(), help);
        assertTrue(readme.contains("takes " + duration.group(1)), "README: " + duration.group(1));
    }

    @Test
    void versionNamesTheCommitTheClassesWereBuiltFrom() throws Exception {
        String version = picocliOut("--version");
        assertTrue(version.startsWith("slim " + Version.CURRENT.version()), version);
        Process git = new ProcessBuilder("git", "rev-parse", "HEAD")
                .redirectErrorStream(true)
                .start();
        String head = new String(git.getInputStream().readAllBytes()).strip();
        if (git.waitFor() == 0) {
            assertEquals(head, Version.CURRENT.commit(), "built in this checkout");
            assertTrue(version.contains("commit " + head.substring(0, 12)), version);
        } else {
            assertEquals("unknown", Version.CURRENT.commit(), "no git, no commit: " + head);
        }
        assertFalse(Version.CURRENT.version().contains("${"), Version.CURRENT.version());
    }
}
