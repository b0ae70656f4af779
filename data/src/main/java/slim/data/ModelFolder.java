package slim.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import slim.nn.SlimException;
import slim.nn.model.Family;

/**
 * What the data side needs to know about a model folder: its family (config.json's model_type, or for
 * a tokenizer-only folder tokenizer_config.json's tokenizer_class), its context window and BOS id.
 */
public record ModelFolder(Path dir, Family family, int maxPositions, int bosTokenId) {

    /** No context window or BOS id is known. */
    public static final int UNKNOWN = -1;

    public static ModelFolder read(Path dir) {
        if (!Files.isDirectory(dir)) throw new SlimException("model folder " + dir + " does not exist");
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(config)) {
            JsonNode c = json(config);
            String type = c.path("model_type").asText("");
            Family family = Family.fromModelType(type);
            if (family == null) {
                throw new SlimException(config + ": model_type '" + type + "' is not one of gpt2, opt, llama, bert");
            }
            int positions = c.has("n_positions")
                    ? c.get("n_positions").asInt()
                    : c.path("max_position_embeddings").asInt(UNKNOWN);
            return new ModelFolder(
                    dir, family, positions, c.path("bos_token_id").asInt(UNKNOWN));
        }
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tokenizerConfig)) {
            JsonNode c = json(tokenizerConfig);
            String cls = c.path("tokenizer_class").asText("");
            Family family;
            if (cls.startsWith("GPT2")) family = Family.GPT2;
            else if (cls.startsWith("Llama")) family = Family.LLAMA;
            else if (cls.startsWith("Bert")) family = Family.BERT;
            else
                throw new SlimException(tokenizerConfig + ": tokenizer_class '" + cls
                        + "' does not tell the model family, and there is no config.json");
            long max = c.path("model_max_length").asLong(UNKNOWN);
            return new ModelFolder(dir, family, max > 0 && max < Integer.MAX_VALUE ? (int) max : UNKNOWN, UNKNOWN);
        }
        throw new SlimException("model folder " + dir + " has neither config.json nor tokenizer_config.json");
    }

    private static JsonNode json(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new SlimException(file + ": not valid JSON: " + e.getMessage());
        }
    }
}
