package slim.experiments.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import slim.data.Dataset;
import slim.data.Datasets;
import slim.data.EncodedExample;
import slim.data.Example;
import slim.data.LabelTokens;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.data.fetch.DatasetFetcher;

/** `slim data show|fetch`: look at the prompts a run would use, or download the four datasets. */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        description = "Show the prompts a run would use, or fetch the datasets.",
        subcommands = {DataCommand.Show.class, DataCommand.Fetch.class})
final class DataCommand extends CommandGroup {
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            sortOptions = false,
            description = {
                "Print prompts of a task's split as a model's tokenizer encodes them.",
                "With their token counts, the label tokens and any tokens appended to every prompt."
            })
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--task",
                required = true,
                paramLabel = "TASK",
                description = "agnews, emocontext, sst2 or trec")
        Task task;

        @Option(
                names = "--setting",
                defaultValue = "lm-prompt",
                paramLabel = "SETTING",
                description = "lm-prompt, cls-prompt or cls-plain (default: ${DEFAULT-VALUE})")
        Setting setting;

        @Option(
                names = "--model",
                required = true,
                paramLabel = "DIR",
                description = "model folder with tokenizer.json or vocab.json + merges.txt (and config.json)")
        Path model;

        @Mixin
        Options.Seed seed;

        @Option(
                names = "--n",
                defaultValue = "2",
                paramLabel = "N",
                description = "how many examples (default: ${DEFAULT-VALUE})")
        int n;

        @Option(
                names = "--part",
                defaultValue = "test",
                paramLabel = "PART",
                description = "train, val or test (default: ${DEFAULT-VALUE})")
        String part;

        @Option(
                names = "--max-prompt-tokens",
                paramLabel = "N",
                description =
                        "shorten longer prompts (demonstrations first) to N tokens (default: the model's context)")
        Integer maxPromptTokens;

        @Mixin
        Options.Data data;

        @Override
        public Integer call() {
            Dataset dataset = Datasets.load(data.resolve(), task);
            Split split = Split.study(dataset, seed.seed);
            List<Example> examples = switch (part) {
                case "train" -> split.train();
                case "val" -> split.val();
                case "test" -> split.test();
                default -> throw Options.usage(spec, "--part must be train, val or test, not '" + part + "'");
            };
            try (Tokenizer tokenizer = Tokenizer.load(model)) {
                int limit = maxPromptTokens != null ? maxPromptTokens : PromptEncoder.contextWindow(tokenizer, 1024);
                PromptEncoder encoder = new PromptEncoder(task, setting, tokenizer, split.demonstrations(), limit);
                System.out.printf(
                        "task %s, setting %s, seed %d, model %s (%s), limit %d tokens%n",
                        task.id(),
                        setting.id(),
                        seed.seed,
                        model,
                        tokenizer.family().name().toLowerCase(),
                        limit);
                System.out.println(
                        "demonstration rows " + Arrays.toString(split.rows().get("demonstrations")));
                LabelTokens labels = encoder.labelTokens();
                if (labels != null) {
                    System.out.println("appended tokens " + describe(tokenizer, labels.appended()));
                    for (int c = 0; c < task.numLabels(); c++) {
                        System.out.printf(
                                "label %-13s target %s%n",
                                task.labelWords().get(c).strip(), describe(tokenizer, new int[] {labels.targets()[c]}));
                    }
                }
                for (Example e : examples.subList(0, Math.min(n, examples.size()))) {
                    EncodedExample encoded = encoder.encode(e);
                    int[] ids = encoded.ids();
                    System.out.printf(
                            "%n--- %s row %d, label %s (%s), %d tokens%n",
                            part,
                            e.row(),
                            task.labels().get(e.label()),
                            task.labelWords().get(e.label()).strip(),
                            ids.length);
                    System.out.println(tokenizer.decode(ids));
                    System.out.println("ids " + Arrays.toString(ids));
                    if (labels != null) System.out.println("target " + labels.targets()[e.label()]);
                }
                System.out.printf("%nshortened %d of %d prompts%n", encoder.shortened(), Math.min(n, examples.size()));
            }
            return 0;
        }

        /** Ids with their vocabulary entries: decoding would hide a bare "▁" or a leading space. */
        private static String describe(Tokenizer tokenizer, int[] ids) {
            return Arrays.toString(ids) + " "
                    + Arrays.stream(ids)
                            .mapToObj(id -> '"' + tokenizer.piece(id) + '"')
                            .toList();
        }
    }

    @Command(
            name = "fetch",
            mixinStandardHelpOptions = true,
            description = {
                "Download AG News, EmoContext, SST-2 and TREC from the Hugging Face hub.",
                "Writes them in slim's normalized layout; an interrupted download resumes."
            })
    static final class Fetch implements Callable<Integer> {
        @Option(
                names = {"--out", "--to"},
                paramLabel = "DIR",
                description = "data folder (default: $SLIM_DATA, else ~/.cache/slim/datasets)")
        Path to;

        @Mixin
        Options.HubSource hub;

        @Option(
                names = {"--tasks", "--task"},
                split = ",",
                paramLabel = "TASK",
                description = "only these tasks (default: all four)")
        List<Task> tasks;

        @Override
        public Integer call() {
            Path dir = to != null ? to : Datasets.defaultDir();
            DatasetFetcher fetcher = new DatasetFetcher(hub.hub(), hub.downloader());
            for (Task t : tasks != null ? tasks : List.of(Task.values())) {
                System.err.println("fetching " + t.id());
                fetcher.fetch(t, dir);
                Dataset d = Datasets.load(dir, t);
                System.out.printf(
                        "%s: %d train, %d test rows in %s%n",
                        t.id(), d.train().size(), d.test().size(), dir.resolve(t.id()));
            }
            return 0;
        }
    }
}
