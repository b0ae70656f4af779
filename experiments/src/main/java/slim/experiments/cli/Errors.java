package slim.experiments.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;
import slim.nn.SlimException;

/**
 * Exit codes and messages. A usage error (an unknown or misspelled option, a missing or bad value)
 * exits 2 with one line naming it, the options it may have meant, and where the help is. A run that
 * fails (a bad checkpoint or CSV, a k the model lacks, a failed cell) exits 1 with one line on
 * stderr; anything else is a bug and keeps its stack trace (also 1).
 */
final class Errors implements IExecutionExceptionHandler, IParameterExceptionHandler {
    static final int USAGE = 2, FAILED = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, ParseResult parsed) {
        if (e instanceof SlimException) {
            cli.getErr().println("slim: " + e.getMessage());
        } else {
            cli.getErr().println("slim: internal error");
            e.printStackTrace(cli.getErr());
        }
        return FAILED;
    }

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        // picocli reports a missing required option before an unknown one: `prune --kep 2` would only
        // say that --keep is missing, when the typo is what the user needs to see
        ParameterException shown = e instanceof UnmatchedArgumentException ? e : unknownOption(cli, args, e);
        err.println(shown.getMessage());
        UnmatchedArgumentException.printSuggestions(shown, err);
        err.println("See '" + cli.getCommandSpec().qualifiedName() + " --help' for its options.");
        return USAGE;
    }

    /** `slim`, `slim data`, `slim model` without a subcommand: their usage on stderr, as a usage error. */
    static int missingSubcommand(CommandSpec spec) {
        spec.commandLine().getErr().println("Missing subcommand.");
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    /** The first argument that looks like an option the command does not have, as picocli reports those; else e. */
    private static ParameterException unknownOption(CommandLine cli, String[] args, ParameterException e) {
        CommandSpec spec = cli.getCommandSpec();
        List<String> unknown = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--")) break;
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            if (name.startsWith("-")
                    && name.length() > 1
                    && !Character.isDigit(name.charAt(1))
                    && name.charAt(1) != '.'
                    && spec.findOption(name) == null
                    && !isOptionOfParent(spec, name)) {
                unknown.add(arg);
            }
        }
        return unknown.isEmpty() ? e : new UnmatchedArgumentException(cli, unknown);
    }

    private static boolean isOptionOfParent(CommandSpec spec, String name) {
        for (CommandSpec p = spec.parent(); p != null; p = p.parent()) if (p.findOption(name) != null) return true;
        return false;
    }
}
