package slim.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import slim.data.Datasets;
import slim.data.Setting;
import slim.data.Task;
import slim.data.fetch.Downloader;
import slim.data.fetch.Hub;
import slim.data.fetch.Progress;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.kernels.Kernels;
import slim.nn.model.KeptLayers;
import slim.nn.model.ModelConfig;
import slim.nn.model.Pooling;

/**
 * The options several commands share, as picocli mixins, so that each has one name, one short form,
 * one default and one description everywhere; and the converters of the study's names.
 */
final class Options {
    private Options() {}

    /** Teaches the command line the study's names (task, setting, pooling, backend), listing the choices on a typo. */
    static void registerConverters(CommandLine cli) {
        cli.registerConverter(Task.class, parsing(Task::parse));
        cli.registerConverter(Setting.class, parsing(Setting::parse));
        cli.registerConverter(Pooling.class, parsing(Pooling::parse));
        cli.registerConverter(Backend.class, parsing(Backend::parse));
        cli.registerConverter(KeptLayers.class, value -> {
            try {
                return KeptLayers.parse(value);
            } catch (SlimException e) {
                throw new TypeConversionException(e.getMessage());
            }
        });
    }

    private static <T> ITypeConverter<T> parsing(Function<String, T> parse) {
        return value -> {
            try {
                return parse.apply(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        };
    }

    /** `--data DIR`: where the datasets are. */
    static final class Data {
        @Option(
                names = "--data",
                paramLabel = "DIR",
                description =
                        "datasets folder (default: $SLIM_DATA, else the download cache of `slim data fetch` when it"
                                + " exists, else ../shared/datasets)")
        Path data;

        /**
         * --data when given; else $SLIM_DATA or the download cache when it exists; else the repository's
         * ../shared/datasets; else the cache path, whose absence Datasets.load explains.
         */
        Path resolve() {
            if (data != null) return data;
            Path cache = Datasets.defaultDir();
            if (System.getenv(Datasets.DATA_ENV) != null || Files.isDirectory(cache)) return cache;
            try {
                Path shared = Shared.resolve("datasets");
                if (Files.isDirectory(shared)) return shared;
            } catch (SlimException e) {
                // no shared folder: fall back to the cache path
            }
            return cache;
        }
    }

    /** `--hub URL` of the fetch commands, and the downloader they share (progress lines on stderr). */
    static final class HubSource {
        @Option(
                names = "--hub",
                paramLabel = "URL",
                description = "hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)")
        String url;

        Hub hub() {
            return Hub.of(url);
        }

        Downloader downloader() {
            return new Downloader(Progress.lines(System.err));
        }
    }

    /** `--out DIR` of the commands that write results (train, grid): the folder of result JSON files. */
    static final class ResultsFolder {
        @Option(
                names = "--out",
                defaultValue = "results",
                paramLabel = "DIR",
                description = "folder for the result JSON files (default: ${DEFAULT-VALUE})")
        Path dir;
    }

    /** `--seed N` of a single run; grid and demo take a list (`--seeds`, with --seed as its other name). */
    static final class Seed {
        @Option(
                names = "--seed",
                defaultValue = "0",
                paramLabel = "N",
                description = "draws the split, the head and the training order (default: ${DEFAULT-VALUE})")
        int seed;
    }

    /** `-k, --keep k` or `--layers SPEC`: which of the model's layers are kept; -k k is --layers 0-(k-1). */
    static final class Keep {
        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;

        @Option(
                names = {"-k", "--keep"},
                paramLabel = "k",
                description = "layers kept, counted from the input (1..the model's)")
        Integer keep;

        @Option(
                names = "--layers",
                paramLabel = "SPEC",
                description = "the kept layers by original index, ascending, e.g. 0-3,7,11 (instead of -k)")
        KeptLayers layers;

        /** The kept layers, checked against the model; null when neither option was given. */
        KeptLayers of(ModelConfig config) {
            if (keep != null && layers != null) {
                throw new ParameterException(spec.commandLine(), "give -k/--keep or --layers, not both");
            }
            if (layers != null) {
                layers.checkWithin(config);
                return layers;
            }
            if (keep == null) return null;
            config.checkKeptLayers(keep);
            return KeptLayers.first(keep);
        }

        /** The kept layers, or a usage error naming the options when neither was given (required by the command). */
        KeptLayers required(ModelConfig config) {
            KeptLayers kept = of(config);
            if (kept == null)
                throw new ParameterException(
                        spec.commandLine(), "Missing required option: '--keep=k' or '--layers=SPEC'");
            return kept;
        }
    }

    /** `--pooling cls|mean`: which hidden state an encoder's classification head reads. */
    static final class PoolingChoice {
        @Option(
                names = "--pooling",
                paramLabel = "POOLING",
                description = {
                    "encoders: the classification head reads [CLS] (cls), BERT's pooler on [CLS] then a",
                    "classifier with bias (cls-pooler, as BertForSequenceClassification), or the mean of all",
                    "positions (mean, the default); decoders always read the last token"
                })
        Pooling pooling;
    }

    /** `--backend cpu|tornado|auto`: where the kernels run. */
    static final class BackendChoice {
        @Option(
                names = "--backend",
                paramLabel = "NAME",
                defaultValue = "cpu",
                description = "where the kernels run: cpu (default), tornado (TornadoVM; fails without it) or auto"
                        + " (TornadoVM when present)")
        Backend backend;

        Supplier<Kernels> resolve() {
            return backend.resolve(System.out);
        }
    }

    /** A usage error of the command: picocli prints it with the command's name, exit code 2. */
    static ParameterException usage(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
