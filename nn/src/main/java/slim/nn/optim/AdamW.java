package slim.nn.optim;

import slim.nn.Slice;
import slim.nn.model.Model;

/**
 * AdamW as torch.optim.AdamW computes it: decoupled weight decay on every parameter, bias-corrected
 * moments. The moments live in two flat buffers laid out like the parameters.
 */
public final class AdamW {
    private final Model model;
    private final Slice m, v;
    private float lr;
    private final float beta1, beta2, eps, weightDecay;
    private int step;
    /** Parameters [0, frozen) of the block are left out of every step. */
    private int frozen;

    public AdamW(Model model, float lr, float beta1, float beta2, float eps, float weightDecay) {
        this.model = model;
        int n = model.layout().size();
        this.m = Slice.allocate(n);
        this.v = Slice.allocate(n);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static AdamW withDefaults(Model model, float lr) {
        return new AdamW(model, lr, 0.9f, 0.999f, 1e-8f, 0.01f);
    }

    public void step() {
        step++;
        Slice p = model.params().all, g = model.grads().all;
        int n = p.length() - frozen;
        model.kernels()
                .adamw(
                        p.sub(frozen, n),
                        g.sub(frozen, n),
                        m.sub(frozen, n),
                        v.sub(frozen, n),
                        n,
                        lr,
                        beta1,
                        beta2,
                        eps,
                        weightDecay,
                        step);
        // The kernel zeroed the gradients it consumed; the frozen ones were computed all the same.
        if (frozen > 0) model.kernels().zero(g, frozen);
        model.gradientsZeroed();
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
        this.lr = lr;
    }

    /** Bytes of optimiser state (two moments per parameter). */
    public long stateBytes() {
        return 8L * m.length();
    }
}
