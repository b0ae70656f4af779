package slim.experiments.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.experiments.ParamCount;
import slim.nn.model.KeptLayers;
import slim.nn.model.ModelConfig;
import slim.nn.model.ParamLayout;

/** `slim info DIR [--keep k | --layers SPEC] [--json]`: what a model is and what keeping layers leaves of it. */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        description = "Show a model's family, shape and parameter counts, in full and with k layers kept.")
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "Hugging Face model folder (config.json + safetensors)")
    Path dir;

    @Mixin
    Options.Keep keep;

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelConfig c = ModelConfig.read(dir);
        KeptLayers k = keep.of(c);
        if (k == null) k = KeptLayers.first(c.layers());
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", dir.toString());
        info.put("family", c.family().modelType());
        info.put("layers", c.layers());
        info.put("hidden_size", c.hidden());
        info.put("heads", c.heads());
        info.put("kv_heads", c.kvHeads());
        info.put("head_dim", c.headDim());
        info.put("intermediate_size", c.intermediate());
        info.put("vocab_size", c.vocab());
        info.put("max_positions", c.maxPositions());
        info.put("parameters", parameters(c, KeptLayers.first(c.layers())));
        info.put("kept_layers", k.count());
        info.put("layers_kept", k.indices());
        info.put("parameters_kept", parameters(c, k));
        if (json) {
            System.out.println(new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(info));
            return 0;
        }
        long total = parameters(c, KeptLayers.first(c.layers())), kept = parameters(c, k);
        System.out.printf("model        %s%n", dir);
        System.out.printf("family       %s%n", c.family().modelType());
        System.out.printf("layers       %d%n", c.layers());
        System.out.printf(
                "hidden       %d (%d heads of %d, %d kv heads), MLP %d%n",
                c.hidden(), c.heads(), c.headDim(), c.kvHeads(), c.intermediate());
        System.out.printf("vocab        %d, context %d%n", c.vocab(), c.maxPositions());
        System.out.printf("parameters   %,d (%s)%n", total, ParamCount.human(total));
        System.out.printf(
                "kept %2d of %d %,d (%s, %.1f%% of the model)%s%n",
                k.count(),
                c.layers(),
                kept,
                ParamCount.human(kept),
                100.0 * kept / total,
                k.isFirst() ? "" : ": layers " + k.format());
        return 0;
    }

    /** Parameters of the model cut to the kept layers, counted from its layout (a tied head counts once). */
    static long parameters(ModelConfig c, KeptLayers kept) {
        return new ParamLayout(c, kept, 0, "").size();
    }
}
