package slim.nn.kernels;

/**
 * AdamW's hyperparameters, as torch.optim.AdamW names them: learning rate, the two moments' decay rates, the
 * denominator's epsilon and the decoupled weight decay.
 */
public record AdamWSettings(float lr, float beta1, float beta2, float eps, float weightDecay) {

    public AdamWSettings {
        if (!(lr >= 0)
                || !(beta1 >= 0 && beta1 < 1)
                || !(beta2 >= 0 && beta2 < 1)
                || !(eps > 0)
                || !(weightDecay >= 0)) {
            throw new IllegalArgumentException(
                    "AdamW needs lr >= 0, betas in [0, 1), eps > 0 and weight decay >= 0: " + this);
        }
    }

    /** PyTorch's defaults at this learning rate: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static AdamWSettings torchDefaults(float lr) {
        return new AdamWSettings(lr, 0.9f, 0.999f, 1e-8f, 0.01f);
    }

    public AdamWSettings withLr(float lr) {
        return new AdamWSettings(lr, beta1, beta2, eps, weightDecay);
    }

    public AdamWSettings withWeightDecay(float weightDecay) {
        return new AdamWSettings(lr, beta1, beta2, eps, weightDecay);
    }
}
