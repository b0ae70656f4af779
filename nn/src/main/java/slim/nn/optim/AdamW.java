package slim.nn.optim;

import slim.nn.Slice;
import slim.nn.kernels.AdamWSettings;
import slim.nn.model.Model;

/**
 * AdamW as torch.optim.AdamW computes it: decoupled weight decay on every parameter, bias-corrected
 * moments. The moments live in two flat buffers laid out like the parameters.
 */
public final class AdamW {
    private final Model model;
    private final Slice m, v;
    private AdamWSettings settings;
    private int step;
    /** Parameters [0, frozen) of the block are left out of every step. */
    private int frozen;

    public AdamW(Model model, AdamWSettings settings) {
        this.model = model;
        int n = model.layout().size();
        this.m = Slice.allocate(n);
        this.v = Slice.allocate(n);
        this.settings = settings;
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static AdamW withDefaults(Model model, float lr) {
        return new AdamW(model, AdamWSettings.torchDefaults(lr));
    }

    public void step() {
        step++;
        // Taken before grads(), which would write it out.
        Model.HeadGradient head = model.takeHeadGradient(frozen);
        Slice p = model.params().all, g = model.grads().all;
        if (head == null) {
            update(p, g, frozen, p.length());
        } else {
            int from = head.offset(), to = from + head.rows() * head.width();
            update(p, g, frozen, from);
            model.kernels()
                    .adamwOuterProduct(
                            p.sub(from, to - from),
                            g.sub(from, to - from),
                            m.sub(from, to - from),
                            v.sub(from, to - from),
                            head.dout(),
                            head.inp(),
                            head.stored(),
                            head.rows(),
                            head.width(),
                            settings,
                            step);
            update(p, g, to, p.length());
        }
        // The kernel zeroed the gradients it consumed; the frozen ones were computed all the same.
        if (frozen > 0) model.kernels().zero(g, frozen);
        model.gradientsZeroed();
    }

    /** The plain step over parameters [from, to) of the block. */
    private void update(Slice p, Slice g, int from, int to) {
        int n = to - from;
        if (n > 0)
            model.kernels().adamw(p.sub(from, n), g.sub(from, n), m.sub(from, n), v.sub(from, n), n, settings, step);
    }

    /**
     * Leaves the first n parameters of the block out of every later step, as if they did not require
     * gradients: no update, no weight decay. The word embeddings come first in every family's layout.
     */
    public void freezeLeading(int n) {
        if (n < 0 || n > m.length())
            throw new IllegalArgumentException("cannot freeze " + n + " of " + m.length() + " parameters");
        frozen = n;
    }

    public int steps() {
        return step;
    }

    public void setLearningRate(float lr) {
        settings = settings.withLr(lr);
    }

    /** Bytes of optimiser state (two moments per parameter). */
    public long stateBytes() {
        return 8L * m.length();
    }
}
