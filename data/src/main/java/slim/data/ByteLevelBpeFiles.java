package slim.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import slim.nn.SlimException;

/**
 * GPT-2's byte-level BPE as the hub ships it without tokenizer.json: {@code vocab.json} + {@code merges.txt}, with
 * {@code tokenizer_config.json} and {@code special_tokens_map.json} naming the special tokens and whether BOS is
 * prepended ({@code add_bos_token}; OPT prepends {@code </s>}). {@link #tokenizerJson} builds the tokenizer.json that
 * transformers' conversion of {@code GPT2Tokenizer} gives (BPE model, ByteLevel pre-tokenizer and decoder, the
 * special tokens as added tokens, a TemplateProcessing post-processor for BOS), so DJL's Hugging Face tokenizer
 * runs it and the ids are exactly {@code GPT2Tokenizer}'s, rather than a second BPE implementation here.
 */
final class ByteLevelBpeFiles {
    static final String VOCAB = "vocab.json", MERGES = "merges.txt";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json", SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    /**
     * The special-token attributes of transformers' tokenizers, in the order it adds missing ones to the vocabulary.
     */
    private static final List<String> SPECIAL_TOKENS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ByteLevelBpeFiles() {}

    /** Whether the folder has GPT-2's two vocabulary files. */
    static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(VOCAB)) && Files.isRegularFile(dir.resolve(MERGES));
    }

    /**
     * tokenizer_config.json's {@code add_bos_token}, if it says; the family decides where it does not (GPT-2's
     * tokenizer defaults to false, but slim's OPT and Llama inputs start with BOS).
     */
    static Optional<Boolean> addBosToken(Path dir) {
        JsonNode add = read(dir, TOKENIZER_CONFIG).path("add_bos_token");
        return add.isBoolean() ? Optional.of(add.booleanValue()) : Optional.empty();
    }

    /** The BOS token's text as special_tokens_map.json (else tokenizer_config.json) names it, if either does. */
    static Optional<String> bosToken(Path dir) {
        return Optional.ofNullable(specialTokens(dir).get("bos_token"))
                .map(t -> t.path("content").asText());
    }

    /** The tokenizer.json equivalent to GPT2Tokenizer on the folder's vocab.json and merges.txt. */
    static ObjectNode tokenizerJson(Path dir) {
        ObjectNode vocab = vocab(dir);
        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        Map<String, Integer> specialIds = new LinkedHashMap<>();
        for (JsonNode token : addedTokens(dir, vocab)) {
            added.add(token);
            specialIds.put(token.get("content").asText(), token.get("id").intValue());
        }
        root.putNull("normalizer");
        boolean prefixSpace =
                read(dir, TOKENIZER_CONFIG).path("add_prefix_space").asBoolean(false);
        root.set("pre_tokenizer", byteLevel(prefixSpace, true));
        String bos = bosToken(dir).orElse(null);
        boolean addBos = addBosToken(dir).orElse(false) && bos != null && specialIds.containsKey(bos);
        root.set("post_processor", addBos ? bosTemplate(bos, specialIds.get(bos)) : byteLevel(true, false));
        root.set("decoder", byteLevel(true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", merges(dir));
        return root;
    }

    /**
     * The special tokens as transformers loads them: tokenizer_config.json's added_tokens_decoder (id and content),
     * then each special token of special_tokens_map.json / tokenizer_config.json at its vocabulary id, or, where
     * the vocabulary lacks it, at the next id past it, as transformers adds it.
     */
    private static List<JsonNode> addedTokens(Path dir, ObjectNode vocab) {
        Map<String, ObjectNode> byContent = new LinkedHashMap<>();
        JsonNode decoder = read(dir, TOKENIZER_CONFIG).path("added_tokens_decoder");
        for (Map.Entry<String, JsonNode> e : decoder.properties()) {
            ObjectNode t = addedToken(e.getValue(), Integer.parseInt(e.getKey()));
            byContent.put(t.get("content").asText(), t);
        }
        int next = vocab.size();
        for (ObjectNode t : byContent.values())
            next = Math.max(next, t.get("id").intValue() + 1);
        for (JsonNode special : specialTokens(dir).values()) {
            String content = special.path("content").asText();
            if (byContent.containsKey(content)) continue;
            int id = vocab.has(content) ? vocab.get(content).intValue() : next++;
            byContent.put(content, addedToken(special, id));
        }
        return List.copyOf(byContent.values());
    }

    /** An added token as tokenizer.json spells it, from a string or an AddedToken object of the config files. */
    private static ObjectNode addedToken(JsonNode spec, int id) {
        ObjectNode t = NODES.objectNode();
        t.put("id", id);
        t.put("content", spec.path("content").asText());
        t.put("single_word", spec.path("single_word").asBoolean(false));
        t.put("lstrip", spec.path("lstrip").asBoolean(false));
        t.put("rstrip", spec.path("rstrip").asBoolean(false));
        t.put("normalized", spec.path("normalized").asBoolean(true));
        t.put("special", spec.path("special").asBoolean(true));
        return t;
    }

    /** bos/eos/unk/... as objects with a "content", special_tokens_map.json's winning over tokenizer_config.json's. */
    private static Map<String, JsonNode> specialTokens(Path dir) {
        Map<String, JsonNode> tokens = new LinkedHashMap<>();
        for (String file : List.of(TOKENIZER_CONFIG, SPECIAL_TOKENS_MAP)) {
            JsonNode config = read(dir, file);
            for (String name : SPECIAL_TOKENS) {
                JsonNode v = config.path(name);
                if (v.isTextual()) tokens.put(name, NODES.objectNode().put("content", v.asText()));
                else if (v.isObject() && v.path("content").isTextual()) tokens.put(name, v);
            }
        }
        return tokens;
    }

    /** The ByteLevel step with the flags transformers' conversion of GPT2Tokenizer gives each place it stands. */
    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode n = NODES.objectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }

    /** BOS, then the sequence (and for a pair, BOS before each), as GPT2Tokenizer with add_bos_token builds inputs. */
    private static ObjectNode bosTemplate(String bos, int id) {
        ObjectNode n = NODES.objectNode();
        n.put("type", "TemplateProcessing");
        n.set("single", NODES.arrayNode().add(special(bos)).add(sequence("A")));
        n.set(
                "pair",
                NODES.arrayNode()
                        .add(special(bos))
                        .add(sequence("A"))
                        .add(special(bos))
                        .add(sequence("B")));
        ObjectNode entry = n.putObject("special_tokens").putObject(bos);
        entry.put("id", bos);
        entry.putArray("ids").add(id);
        entry.putArray("tokens").add(bos);
        return n;
    }

    private static ObjectNode special(String token) {
        ObjectNode n = NODES.objectNode();
        n.putObject("SpecialToken").put("id", token).put("type_id", 0);
        return n;
    }

    private static ObjectNode sequence(String which) {
        ObjectNode n = NODES.objectNode();
        n.putObject("Sequence").put("id", which).put("type_id", 0);
        return n;
    }

    private static ObjectNode vocab(Path dir) {
        Path file = dir.resolve(VOCAB);
        JsonNode vocab = readJson(file);
        if (!vocab.isObject()) throw new SlimException(file + ": not a JSON object of token to id");
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().intValue() < 0) {
                throw new SlimException(
                        file + ": token '" + e.getKey() + "' has id " + e.getValue() + ", not a non-negative integer");
            }
        }
        return (ObjectNode) vocab;
    }

    /** merges.txt: a "#version" line, then one merge "left right" per line, highest priority first. */
    private static ArrayNode merges(Path dir) {
        Path file = dir.resolve(MERGES);
        ArrayNode merges = NODES.arrayNode();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
            if (line.split(" ", -1).length != 2) {
                throw new SlimException(
                        file + ": line " + (i + 1) + " is not two tokens separated by one space: " + line);
            }
            merges.add(line);
        }
        return merges;
    }

    /** A config file of the folder, or an empty object where it has none. */
    private static JsonNode read(Path dir, String name) {
        Path file = dir.resolve(name);
        return Files.isRegularFile(file) ? readJson(file) : NODES.objectNode();
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new SlimException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
