package slim.experiments.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.data.Datasets;
import slim.data.fetch.HubEnvironment;
import slim.data.fetch.ModelFetcher;
import slim.nn.SlimException;

/** `slim model fetch REPO`: config, tokenizer and weights of a hub model at a revision, checked and resumable. */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        description = "Fetch models from the Hugging Face hub.",
        subcommands = {ModelCommand.Fetch.class})
final class ModelCommand extends CommandGroup {
    @Command(
            name = "fetch",
            mixinStandardHelpOptions = true,
            description = {
                "Download a hub model's config.json, tokenizer (tokenizer.json, else vocab.json"
                        + " + merges.txt) and weights (safetensors, else pytorch_model.bin) into a folder, checked"
                        + " against the sizes and hashes the hub publishes.",
                "Sends HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token of huggingface-cli login ($HF_HOME/token)."
            })
    static final class Fetch implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "REPO", description = "hub repository id, e.g. openai-community/gpt2-xl")
        String repo;

        @Option(
                names = {"--out", "--to"},
                paramLabel = "DIR",
                description = "model folder (default: ~/.cache/slim/models/OWNER--NAME)")
        Path to;

        @Option(
                names = "--cache",
                description = "fill transformers' cache ($HF_HUB_CACHE, else $HF_HOME/hub, else"
                        + " ~/.cache/huggingface/hub) instead of a folder; the model folder is its snapshot")
        boolean cache;

        @Option(
                names = "--revision",
                paramLabel = "REV",
                defaultValue = "main",
                description = "branch, tag, commit or refs/pr/N (default: main)")
        String revision;

        @Mixin
        Options.HubSource hub;

        @Override
        public Integer call() {
            if (cache && to != null) throw new SlimException("--out and --cache exclude each other");
            ModelFetcher fetcher = new ModelFetcher(hub.hub(), hub.downloader());
            ModelFetcher.Fetched f = cache
                    ? fetcher.fetchToCache(
                            repo, revision, HubEnvironment.system().cache())
                    : fetcher.fetch(
                            repo,
                            revision,
                            to != null
                                    ? to
                                    : Datasets.defaultDir()
                                            .resolveSibling("models")
                                            .resolve(repo.replace("/", "--")));
            System.out.printf(
                    "%s at %s (commit %s): %d files in %s%n",
                    repo, revision, f.commit(), f.files().size(), f.dir());
            return 0;
        }
    }
}
