package slim.experiments.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import slim.experiments.Grid;
import slim.experiments.Shards;
import slim.nn.SlimException;

/** `--slurm FILE --shards N [--slurm-option OPTION]...`: the grid as a Slurm job array instead of running it here. */
final class SlurmOptions {
    /** Options the array's tasks do not get: these, --shard, which each task sets to its own, and --status. */
    private static final Set<String> NOT_PASSED_ON =
            Set.of("--slurm", "--shards", "--slurm-option", "--shard", "--status");

    @Option(
            names = "--slurm",
            paramLabel = "FILE",
            description =
                    "write a Slurm job-array script for this grid to FILE (and FILE-report's) instead of running it")
    Path file;

    @Option(names = "--shards", paramLabel = "N", description = "with --slurm: how many array tasks split the grid")
    Integer shards;

    @Option(
            names = "--slurm-option",
            paramLabel = "OPTION",
            description = "an sbatch option for the scripts, e.g. --partition=gpu, --time=2-00:00:00, --gres=gpu:1"
                    + " (repeatable)")
    List<String> options = new ArrayList<>();

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Whether to write the scripts; refuses the Slurm options without --slurm, and --shard with it. */
    boolean requested(String shard) {
        if (file == null) {
            if (shards != null || !options.isEmpty()) {
                throw Options.usage(command, "--shards and --slurm-option go with --slurm FILE");
            }
            return false;
        }
        if (shards == null || shards < 1) {
            throw Options.usage(command, "--slurm needs --shards N (N >= 1): the job array's size");
        }
        if (shard != null) throw Options.usage(command, "--slurm writes a task per shard: leave out --shard " + shard);
        return true;
    }

    /** Writes the array script and its report script, and prints how to submit them. */
    int write(Shards split, int cells, Path out) {
        Path results = out.toAbsolutePath().normalize();
        Path script = file.toAbsolutePath().normalize();
        String name = script.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String reportName = dot > 0 ? name.substring(0, dot) + "-report" + name.substring(dot) : name + "-report";
        Path report = script.resolveSibling(reportName);
        SlurmScript slurm = new SlurmScript(
                SlurmScript.Launch.current(results.resolve(".slim")), arguments(command), shards, results, options);
        try {
            Files.createDirectories(slurm.logs());
            Files.createDirectories(script.getParent());
            Files.writeString(script, slurm.arrayScript(script, report));
            Files.writeString(report, slurm.reportScript(script));
            script.toFile().setExecutable(true);
            report.toFile().setExecutable(true);
        } catch (IOException e) {
            throw new SlimException(script + ": cannot write the Slurm scripts: " + e.getMessage(), e);
        }
        System.out.printf("Wrote %s (a job array of %d tasks over %d cells) and %s.%n", script, shards, cells, report);
        for (int i = 0; i < shards; i++) {
            int n = split.cells(new Grid.Shard(i, shards)).size();
            System.out.printf(
                    "  task %d: %d cell%s, %.1f%% of the estimated cost%n",
                    i, n, n == 1 ? "" : "s", 100 * split.share(i));
        }
        System.out.printf(
                "Submit both (the report runs once every task has succeeded):%n"
                        + "  jid=$(sbatch --parsable %s) && sbatch --dependency=afterok:${jid%%%%;*} %s%n",
                script, report);
        return 0;
    }

    /**
     * The command's own arguments again, as its array tasks get them: every path absolute (default paths
     * included, so --out does not depend on the directory a task starts in), the Slurm options and --shard
     * left out. One line per option.
     */
    static List<List<String>> arguments(CommandSpec command) {
        ParseResult parsed = command.commandLine().getParseResult();
        List<List<String>> args = new ArrayList<>();
        for (OptionSpec o : command.options()) {
            if (o.usageHelp() || o.versionHelp() || NOT_PASSED_ON.contains(o.longestName())) continue;
            Object value = o.getValue();
            if (isPaths(o) && value != null) {
                Collection<?> paths = value instanceof Collection<?> c ? c : List.of(value);
                for (Object p : paths) {
                    args.add(List.of(
                            o.longestName(),
                            ((Path) p).toAbsolutePath().normalize().toString()));
                }
            } else if (parsed.hasMatchedOption(o)) {
                if (o.arity().max() == 0) {
                    if (Boolean.TRUE.equals(value)) args.add(List.of(o.longestName()));
                } else {
                    for (String v : o.originalStringValues()) args.add(List.of(o.longestName(), v));
                }
            }
        }
        return args;
    }

    private static boolean isPaths(OptionSpec o) {
        return o.type() == Path.class
                || Collection.class.isAssignableFrom(o.type()) && o.auxiliaryTypes()[0] == Path.class;
    }
}
