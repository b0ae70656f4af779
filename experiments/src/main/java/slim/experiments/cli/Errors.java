package slim.experiments.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns the errors a user can cause (a bad checkpoint, a bad CSV, a k the model lacks) into one
 * clear line on stderr and exit code 2; anything else is a bug and keeps its stack trace.
 */
final class Errors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cli, ParseResult parsed) {
        if (e instanceof slim.nn.SlimException || e instanceof IllegalArgumentException) {
            cli.getErr().println("slim: " + e.getMessage());
            return 2;
        }
        cli.getErr().println("slim: internal error");
        e.printStackTrace(cli.getErr());
        return 1;
    }
}
