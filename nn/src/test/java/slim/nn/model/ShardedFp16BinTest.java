package slim.nn.model;

import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.Slice;

/**
 * opt-tiny as the hub serves larger models: fp16 storages in two pytorch_model-0000i-of-00002.bin shards joined by
 * pytorch_model.bin.index.json. The full model's logits equal transformers' on the same fp16 weights in fp32.
 */
class ShardedFp16BinTest {

    @Test
    void logitsMatchTransformers() {
        Path dir = Shared.resolve("hub-layouts", "opt-tiny-bin-fp16-sharded");
        JsonNode reference = Golden.read(dir.resolve("reference.json"));
        int[] ids = ints(reference.get("input_ids"));
        int T = ids.length;
        Model m = ModelFiles.load(
                dir,
                ModelConfig.read(dir).layers(),
                ModelFiles.Options.builder().headRows(T).build());
        m.forward(ids, T);
        int[] positions = new int[T];
        for (int t = 0; t < T; t++) positions[t] = t;
        Slice logits = m.lmLogits(positions, T);
        assertClose(
                floats(reference.get("logits")),
                logits.sub(0, T * m.config().vocab()).toArray(),
                "logits");
    }
}
