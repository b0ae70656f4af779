package slim.data;

import java.util.List;

/**
 * The study's four classification tasks: the labels as the normalized CSV files spell them, the
 * word each label becomes in a prompt, and the prompt format.
 */
public enum Task {
    AGNEWS(
            "agnews",
            "Article: {text}\nAnswer:{label}",
            List.of("World", "Sports", "Business", "Sci/Tech"),
            List.of("World", "Sports", "Business", "Technology")),
    EMOCONTEXT(
            "emocontext",
            "Dialogue: {text}\nEmotion:{label}",
            List.of("others", "happy", "sad", "angry"),
            List.of("Others", "Happy", "Sad", "Angry")),
    SST2("sst2", "Review: {text}\nSentiment:{label}", List.of("negative", "positive"), List.of("Negative", "Positive")),
    TREC(
            "trec",
            "Question: {text}\nAnswer Type:{label}",
            List.of("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"),
            List.of("Abbreviation", "Entity", "Description", "Person", "Location", "Number"));

    private final String id;
    /**
     * The prompt format: {text} is the input, {label} the label word with its leading space, or nothing for the query.
     */
    public final String format;

    private final List<String> labels;
    private final List<String> labelWords;
    private final String beforeText;
    private final String beforeLabel;

    Task(String id, String format, List<String> labels, List<String> words) {
        this.id = id;
        this.format = format;
        this.labels = labels;
        this.labelWords = words.stream().map(w -> " " + w).toList();
        int text = format.indexOf("{text}");
        int label = format.indexOf("{label}");
        this.beforeText = format.substring(0, text);
        this.beforeLabel = format.substring(text + "{text}".length(), label);
    }

    /** The name used on the command line, in folder names and in results: "agnews", "sst2", ... */
    public String id() {
        return id;
    }

    /** Label names in class-index order, as the normalized CSV files spell them. */
    public List<String> labels() {
        return labels;
    }

    /** The word for each class in a prompt, with its leading space (" Negative"). */
    public List<String> labelWords() {
        return labelWords;
    }

    public int numLabels() {
        return labels.size();
    }

    /** The format filled in: a demonstration when labelWord is a label word, the query when it is "". */
    public String fill(String text, String labelWord) {
        return beforeText + text + beforeLabel + labelWord;
    }

    /** The class index of a label name, or -1 when the task has no such label. */
    public int labelIndex(String label) {
        return labels.indexOf(label);
    }

    public static Task parse(String name) {
        return EnumIds.parse("task", name, values(), Task::id);
    }

    @Override
    public String toString() {
        return id;
    }
}
