package slim.experiments.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `slim` command line: each subcommand is its own class in this package. */
@Command(name = "slim", mixinStandardHelpOptions = true, version = "slim 0.1.0",
        description = "Make large language models small by cutting off their top decoder layers.",
        subcommands = {InfoCommand.class, PruneCommand.class, TrainCommand.class, PredictCommand.class, GridCommand.class, ReportCommand.class, DemoCommand.class,
                DataCommand.class, ModelCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by main and the CLI tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new Errors());
        return cli;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
