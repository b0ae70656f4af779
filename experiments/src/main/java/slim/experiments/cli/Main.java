package slim.experiments.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import slim.experiments.Version;

/** The `slim` command line: each subcommand is its own class in this package. */
@Command(
        name = "slim",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionText.class,
        description = "Make large language models small by cutting off their top decoder layers.",
        subcommands = {
            InfoCommand.class,
            PruneCommand.class,
            TrainCommand.class,
            PredictCommand.class,
            GridCommand.class,
            ReportCommand.class,
            DemoCommand.class,
            DataCommand.class,
            ModelCommand.class,
            LayersCommand.class
        })
public final class Main extends CommandGroup {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by main and the CLI tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        Options.registerConverters(cli);
        Errors errors = new Errors();
        cli.setExecutionExceptionHandler(errors);
        cli.setParameterExceptionHandler(errors);
        return cli;
    }

    /** `slim --version`: the version and the commit the jar was built from. */
    static final class VersionText implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {Version.CURRENT.toString()};
        }
    }
}
