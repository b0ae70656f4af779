package slim.experiments;

import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.LayerSelection;
import slim.nn.model.ModelConfig;

/**
 * Which layers a cell keeps: k layers chosen by a selection (the study's first k, or by the scores
 * of the cell's own training prompts), or a set given by index.
 *
 * @param keep      how many layers are kept
 * @param selection how they are chosen; null when given
 * @param given     the set named on the command line; null when chosen by a selection
 */
public record LayerChoice(int keep, LayerSelection selection, KeptLayers given) {

    /** The name results record for a given set. */
    public static final String GIVEN = "given";

    public LayerChoice {
        if ((selection == null) == (given == null)) throw new IllegalArgumentException("either a selection or a set");
    }

    public static LayerChoice first(int k) {
        return new LayerChoice(k, LayerSelection.FIRST, null);
    }

    public static LayerChoice selected(int k, LayerSelection selection) {
        return new LayerChoice(k, selection, null);
    }

    /** A given set; layers 0..n-1 are the study's first n, and named so. */
    public static LayerChoice given(KeptLayers layers) {
        return layers.isFirst() ? first(layers.count()) : new LayerChoice(layers.count(), null, layers);
    }

    /** Whether the kept layers depend on scores of the training prompts. */
    public boolean needsScores() {
        return selection != null && selection != LayerSelection.FIRST;
    }

    /** first, bi, angular, or given. */
    public String label() {
        return selection != null ? selection.label() : GIVEN;
    }

    /** The kept layers; scores are read only by the selections that need them. */
    public KeptLayers kept(LayerScores scores) {
        if (given != null) return given;
        return selection == LayerSelection.FIRST ? KeptLayers.first(keep) : scores.keep(selection, keep);
    }

    /** Refuses a k or a layer the model does not have, naming its config. */
    public void checkWithin(ModelConfig config) {
        config.checkKeptLayers(keep);
        if (given != null) given.checkWithin(config);
    }

    /** Part of a cell's id: k2, k2_bi, or layers0_2 (a spec's commas do not belong in file names). */
    String id() {
        if (given != null) return "layers" + given.format().replace(',', '_');
        return "k" + keep + (selection == LayerSelection.FIRST ? "" : "_" + selection.label());
    }

    @Override
    public String toString() {
        if (given != null) return "layers " + given.format();
        return "k=" + keep + (selection == LayerSelection.FIRST ? "" : " (" + selection.label() + ")");
    }
}
