package slim.experiments;

import java.util.List;
import java.util.Locale;

/**
 * What the model answered for each example of one pass (validation or test): the true label, the
 * predicted one (the arg-max) and every class's probability, in example order.
 *
 * @param labels        true class of each example
 * @param predicted     predicted class of each example
 * @param probabilities [examples][classes] softmax over the classes' logits
 */
public record Predictions(int[] labels, int[] predicted, float[][] probabilities) {

    public int size() {
        return labels.length;
    }

    /** Fraction predicted right (0 for no examples). */
    public double accuracy() {
        int right = 0;
        for (int i = 0; i < labels.length; i++) if (labels[i] == predicted[i]) right++;
        return labels.length == 0 ? 0 : (double) right / labels.length;
    }

    /** CSV header for the task's labels: part,index,row,label,predicted,p_LABEL... */
    static String csvHeader(List<String> classes) {
        StringBuilder b = new StringBuilder("part,index,row,label,predicted");
        for (String c : classes) b.append(",p_").append(c.replace('/', '_'));
        return b.append('\n').toString();
    }

    /** One CSV line per example, labels by name, probabilities to six decimals; rows: the examples' data rows. */
    void appendCsv(StringBuilder b, String part, int[] rows, List<String> classes) {
        for (int i = 0; i < labels.length; i++) {
            b.append(part)
                    .append(',')
                    .append(i)
                    .append(',')
                    .append(rows[i])
                    .append(',')
                    .append(classes.get(labels[i]))
                    .append(',')
                    .append(classes.get(predicted[i]));
            for (float p : probabilities[i]) b.append(',').append(String.format(Locale.ROOT, "%.6f", p));
            b.append('\n');
        }
    }
}
