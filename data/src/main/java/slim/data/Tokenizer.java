package slim.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import slim.nn.SlimException;
import slim.nn.model.Family;

/**
 * A model folder's tokenizer.json through DJL's binding of Hugging Face tokenizers, offline, with no
 * truncation or padding (MiniLM's file asks for both at 128); a folder with GPT-2's vocab.json + merges.txt
 * instead gets the equivalent tokenizer.json built in memory ({@link ByteLevelBpeFiles}). {@link #encode} never
 * adds special tokens; {@link #encodeInput} adds BOS where tokenizer_config.json's add_bos_token asks for it
 * (its bos_token), and where the config does not say, what the family expects at the start of an input: nothing
 * for GPT-2, {@code </s>} for OPT, {@code <s>} for Llama; for BERT the tokenizer's own [CLS] ... [SEP].
 */
public final class Tokenizer implements AutoCloseable {
    private static final String TOKENIZER_JSON = "tokenizer.json";

    /** Every file of a model folder that {@link #load} may read: what a model's identity must cover besides weights. */
    public static final List<String> FILES = List.of(
            TOKENIZER_JSON,
            ByteLevelBpeFiles.VOCAB,
            ByteLevelBpeFiles.MERGES,
            ByteLevelBpeFiles.TOKENIZER_CONFIG,
            ByteLevelBpeFiles.SPECIAL_TOKENS_MAP);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> NO_TRUNCATION_OR_PADDING =
            Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;
    private final ModelFolder model;
    /** The tokenizer.json it runs: read from the folder's file when first needed, or built from vocab + merges. */
    private JsonNode definition;

    private final int[] bos;

    private Tokenizer(HuggingFaceTokenizer hf, ModelFolder model, JsonNode definition) {
        this.hf = hf;
        this.model = model;
        this.definition = definition;
        this.bos = model.family() == Family.BERT ? new int[0] : startOfInput();
    }

    /** BOS where tokenizer_config.json's add_bos_token asks for it, or where it does not say, for OPT and Llama. */
    private int[] startOfInput() {
        boolean add = ByteLevelBpeFiles.addBosToken(model.dir()).orElse(model.family() != Family.GPT2);
        if (!add) return new int[0];
        String familyBos = switch (model.family()) {
            case LLAMA -> "<s>";
            case OPT -> "</s>";
            case GPT2, BERT -> "<|endoftext|>";
        };
        return new int[] {bosId(ByteLevelBpeFiles.bosToken(model.dir()).orElse(familyBos))};
    }

    public static Tokenizer load(Path modelDir) {
        ModelFolder model = ModelFolder.read(modelDir);
        Path file = modelDir.resolve(TOKENIZER_JSON);
        if (Files.isRegularFile(file)) {
            try {
                return new Tokenizer(HuggingFaceTokenizer.newInstance(file, NO_TRUNCATION_OR_PADDING), model, null);
            } catch (IOException | RuntimeException e) {
                throw new SlimException(file + ": cannot load tokenizer: " + e.getMessage());
            }
        }
        if (!ByteLevelBpeFiles.present(modelDir)) {
            throw new SlimException(modelDir + ": no tokenizer: neither " + TOKENIZER_JSON + " nor "
                    + ByteLevelBpeFiles.VOCAB + " + " + ByteLevelBpeFiles.MERGES);
        }
        ObjectNode built = ByteLevelBpeFiles.tokenizerJson(modelDir);
        try (InputStream in = new ByteArrayInputStream(JSON.writeValueAsBytes(built))) {
            return new Tokenizer(HuggingFaceTokenizer.newInstance(in, NO_TRUNCATION_OR_PADDING), model, built);
        } catch (IOException | RuntimeException e) {
            throw new SlimException(modelDir + ": cannot build a tokenizer from " + ByteLevelBpeFiles.VOCAB + " + "
                    + ByteLevelBpeFiles.MERGES + ": " + e.getMessage());
        }
    }

    /** config.json's bos_token_id when it has one, else the id the token string encodes to. */
    private int bosId(String token) {
        if (model.bosTokenId() != ModelFolder.UNKNOWN) return model.bosTokenId();
        int[] ids = encode(token);
        if (ids.length != 1) throw new SlimException(model.dir() + ": the tokenizer has no single token " + token);
        return ids[0];
    }

    public ModelFolder model() {
        return model;
    }

    public Family family() {
        return model.family();
    }

    /** The ids the family puts before an input (empty for GPT-2 and BERT, whose [CLS] comes from encodeInput). */
    public int[] bos() {
        return bos.clone();
    }

    /** The text's ids, no special tokens. */
    public int[] encode(String text) {
        return toInts(hf.encode(text, false, false).getIds());
    }

    /** The text as a whole model input: BOS as the family expects, or BERT's [CLS] ... [SEP]. */
    public int[] encodeInput(String text) {
        if (model.family() == Family.BERT)
            return toInts(hf.encode(text, true, false).getIds());
        int[] ids = encode(text);
        int[] out = new int[bos.length + ids.length];
        System.arraycopy(bos, 0, out, 0, bos.length);
        System.arraycopy(ids, 0, out, bos.length, ids.length);
        return out;
    }

    /** How many tokens the text encodes to (no specials). */
    public int count(String text) {
        return hf.encode(text, false, false).getIds().length;
    }

    /**
     * The text cut after the characters of its first n tokens, trailing spaces dropped. Cutting by
     * character offsets keeps whole characters, where decoding a cut id list could split one.
     */
    public String keepTokens(String text, int n) {
        if (n <= 0) return "";
        Encoding e = hf.encode(text, false, false);
        CharSpan[] spans = e.getCharTokenSpans();
        if (n >= spans.length) return text;
        int end = 0; // spans may overlap (sentencepiece's prepended "▁" shares the first character's)
        for (int i = 0; i < n; i++) if (spans[i] != null) end = Math.max(end, spans[i].getEnd());
        return text.substring(0, Math.min(end, text.length())).stripTrailing();
    }

    /** The id of a vocabulary entry spelled exactly so (e.g. "L", "<0x4C>"), or -1. */
    public int pieceId(String piece) {
        var id = vocabulary().get(piece);
        return id != null && id.isInt() ? id.asInt() : -1;
    }

    private JsonNode vocabulary() {
        if (definition == null) {
            Path file = model.dir().resolve(TOKENIZER_JSON);
            try {
                definition = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new SlimException(file + ": cannot read: " + e.getMessage());
            }
        }
        return definition.path("model").path("vocab");
    }

    /** The vocabulary entry of an id as tokenizer.json spells it ("▁", "ĠPerson"), or "?" for none. */
    public String piece(int id) {
        if (pieces == null) {
            pieces = new HashMap<>();
            vocabulary().properties().forEach(e -> pieces.put(e.getValue().asInt(), e.getKey()));
        }
        return pieces.getOrDefault(id, "?");
    }

    private Map<Integer, String> pieces;

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, false);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override
    public void close() {
        hf.close();
    }
}
