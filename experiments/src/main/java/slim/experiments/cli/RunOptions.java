package slim.experiments.cli;

import picocli.CommandLine.Mixin;
import slim.experiments.Experiment;
import slim.experiments.Protocol;

/** What every command that runs cells takes (train, grid, demo): --data, the protocol's flags and --backend. */
final class RunOptions {
    @Mixin
    Options.Data data;

    @Mixin
    ProtocolOptions protocol;

    @Mixin
    Options.BackendChoice backend;

    /** base with the protocol flags given on the command line. */
    Protocol protocol(Protocol base) {
        return protocol.apply(base);
    }

    /** Cells under this protocol, over the data folder and on the backend the options name. */
    Experiment experiment(Protocol protocol) {
        return new Experiment(data.resolve(), protocol).on(backend.resolve());
    }
}
