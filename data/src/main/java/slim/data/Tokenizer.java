package slim.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import slim.nn.SlimException;
import slim.nn.model.Family;

/**
 * A model folder's tokenizer.json through DJL's binding of Hugging Face tokenizers, offline, with no
 * truncation or padding (MiniLM's file asks for both at 128). {@link #encode} never adds special
 * tokens; {@link #encodeInput} adds what the family expects at the start of an input: nothing for
 * GPT-2, {@code </s>} for OPT, {@code <s>} for Llama, and for BERT the tokenizer's own
 * [CLS] ... [SEP].
 */
public final class Tokenizer implements AutoCloseable {
    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;
    private final ModelFolder model;
    private final int[] bos;

    private Tokenizer(HuggingFaceTokenizer hf, ModelFolder model) {
        this.hf = hf;
        this.model = model;
        this.bos = switch (model.family()) {
            case GPT2, BERT -> new int[0];
            case OPT -> new int[] {bosId("</s>")};
            case LLAMA -> new int[] {bosId("<s>")};
        };
    }

    public static Tokenizer load(Path modelDir) {
        ModelFolder model = ModelFolder.read(modelDir);
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) throw new SlimException("missing file " + file + " (the tokenizer)");
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new Tokenizer(hf, model);
        } catch (IOException | RuntimeException e) {
            throw new SlimException(file + ": cannot load tokenizer: " + e.getMessage());
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
        if (model.family() == Family.BERT) return toInts(hf.encode(text, true, false).getIds());
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

    private com.fasterxml.jackson.databind.JsonNode vocabulary() {
        if (vocabulary == null) {
            try {
                vocabulary = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(model.dir().resolve("tokenizer.json").toFile()).path("model").path("vocab");
            } catch (IOException e) {
                throw new SlimException(model.dir().resolve("tokenizer.json") + ": cannot read: " + e.getMessage());
            }
        }
        return vocabulary;
    }

    private com.fasterxml.jackson.databind.JsonNode vocabulary;

    /** The vocabulary entry of an id as tokenizer.json spells it ("▁", "ĠPerson"), or "?" for none. */
    public String piece(int id) {
        if (pieces == null) {
            pieces = new java.util.HashMap<>();
            vocabulary().properties().forEach(e -> pieces.put(e.getValue().asInt(), e.getKey()));
        }
        return pieces.getOrDefault(id, "?");
    }

    private java.util.Map<Integer, String> pieces;

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
