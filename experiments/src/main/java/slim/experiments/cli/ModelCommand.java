package slim.experiments.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import slim.data.Datasets;
import slim.data.fetch.Downloader;
import slim.data.fetch.Hub;
import slim.data.fetch.ModelFetcher;
import slim.data.fetch.Progress;

/** `slim model fetch REPO`: config, tokenizer and safetensors of a hub model, resumable. */
@Command(name = "model", mixinStandardHelpOptions = true, description = "Fetch models from the Hugging Face hub.",
        subcommands = {ModelCommand.Fetch.class})
final class ModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return Errors.missingSubcommand(spec);
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Download a hub model's config.json, tokenizer files and safetensors weights into a folder.")
    static final class Fetch implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "REPO", description = "hub repository id, e.g. openai-community/gpt2-xl")
        String repo;

        @Option(names = {"--out", "--to"}, paramLabel = "DIR", description = "model folder (default: ~/.cache/slim/models/OWNER--NAME)")
        Path to;

        @Option(names = "--hub", paramLabel = "URL", description = "hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)")
        String hub;

        @Override
        public Integer call() {
            Path dir = to != null ? to : Datasets.defaultDir().resolveSibling("models").resolve(repo.replace("/", "--"));
            List<Path> files = new ModelFetcher(Hub.of(hub), new Downloader(Progress.lines(System.err))).fetch(repo, dir);
            System.out.printf("%s: %d files in %s%n", repo, files.size(), dir);
            return 0;
        }
    }
}
