package slim.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import slim.data.Datasets;
import slim.data.EncodedExample;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;

/**
 * The encoded prompts of a shortened cell, as `slim train` encodes them (seed 0's split, the model's tokenizer),
 * written as JSON for bench/torch_cell.py, so that PyTorch trains and evaluates on exactly slim's token ids:
 * {"train": [[ids...], ...], "train_labels": [...], "val": ..., "val_labels": ..., "test": ..., "test_labels": ...,
 * "label_tokens": [...] or null}.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar slim.bench.CellPrompts MODEL_DIR DATA_DIR TASK SETTING TRAIN VAL
 * TEST}
 */
public final class CellPrompts {

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]), data = Path.of(args[1]);
        Task task = Task.parse(args[2]);
        Setting setting = Setting.parse(args[3]);
        int train = Integer.parseInt(args[4]), val = Integer.parseInt(args[5]), test = Integer.parseInt(args[6]);
        Split split = Split.make(Datasets.load(data, task), 0, train, val, test);
        Map<String, Object> out = new LinkedHashMap<>();
        try (Tokenizer tokenizer = Tokenizer.load(model)) {
            PromptEncoder encoder = new PromptEncoder(task, setting, tokenizer, split.demonstrations(), 1024);
            put(out, "train", encoder.encodeAll(split.train()));
            put(out, "val", encoder.encodeAll(split.val()));
            put(out, "test", encoder.encodeAll(split.test()));
            out.put(
                    "label_tokens",
                    encoder.labelTokens() == null ? null : encoder.labelTokens().targets());
        }
        try {
            new ObjectMapper().writeValue(System.out, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void put(Map<String, Object> out, String part, List<EncodedExample> examples) {
        out.put(part, examples.stream().map(EncodedExample::ids).toList());
        out.put(
                part + "_labels",
                examples.stream().mapToInt(EncodedExample::label).toArray());
    }
}
