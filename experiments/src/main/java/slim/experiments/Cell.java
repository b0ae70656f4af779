package slim.experiments;

import java.nio.file.Path;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.SlimException;
import slim.nn.model.Family;
import slim.nn.model.ModelConfig;
import slim.nn.model.Pooling;

/**
 * One point of the study's grid: a model folder, which of its layers are kept, a task, a setting
 * and a seed, plus where the classification head reads (the last token for decoders; [CLS] or the
 * mean for encoders).
 */
public record Cell(Path model, LayerChoice layers, Task task, Setting setting, int seed, Pooling pooling) {

    /** The study's cell: the first keep layers. */
    public Cell(Path model, int keep, Task task, Setting setting, int seed, Pooling pooling) {
        this(model, LayerChoice.first(keep), task, setting, seed, pooling);
    }

    /** The cell with the family's default pooling: last token for decoders, mean for encoders. */
    public static Cell of(Path model, int keep, Task task, Setting setting, int seed, Pooling encoderPooling) {
        return of(model, LayerChoice.first(keep), task, setting, seed, encoderPooling);
    }

    /** The cell with the family's default pooling: last token for decoders, mean for encoders. */
    public static Cell of(
            Path model, LayerChoice layers, Task task, Setting setting, int seed, Pooling encoderPooling) {
        Family family = ModelConfig.read(model).family();
        Pooling pooling = family.isDecoder() ? Pooling.LAST : encoderPooling == null ? Pooling.MEAN : encoderPooling;
        return new Cell(model, layers, task, setting, seed, pooling);
    }

    /** How many layers are kept. */
    public int keep() {
        return layers.keep();
    }

    /** The model's name as results and reports show it: its folder name. */
    public String modelName() {
        Path name = model.toAbsolutePath().normalize().getFileName();
        return name == null ? model.toString() : name.toString();
    }

    /** A stable name, unique within a grid: the result file is called after it. */
    public String id() {
        String pool = switch (pooling) {
            case FIRST -> "_cls";
            case CLS_POOLER -> "_clspooler";
            default -> "";
        };
        return modelName() + "_" + layers.id() + "_" + task.id() + "_" + setting.id() + "_s" + seed + pool;
    }

    /**
     * Refuses what cannot run, before any work starts: a k or a layer the model does not have, lm-prompt on an
     * encoder (it has no LM head), a pooling other than the last token on a decoder.
     */
    public void validate() {
        ModelConfig config = ModelConfig.read(model);
        layers.checkWithin(config);
        if (setting == Setting.LM_PROMPT && !config.family().isDecoder()) {
            throw new SlimException(model + ": lm-prompt needs an LM head, and this "
                    + config.family().modelType() + " encoder has none; use cls-prompt or cls-plain");
        }
        if (config.family().isDecoder() && pooling != Pooling.LAST) {
            throw new SlimException(model
                    + ": a decoder's classification head reads the last token; --pooling applies to encoders only");
        }
    }

    @Override
    public String toString() {
        return modelName() + " " + layers + " " + task.id() + " " + setting.id() + " seed " + seed;
    }
}
