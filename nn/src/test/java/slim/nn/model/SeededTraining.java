package slim.nn.model;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.optim.AdamW;

/**
 * A short seeded training, printed to the bit: each step's loss and a SHA-256 of the final weights. {@link
 * ReproducibilityTest} runs it in JVMs that differ in thread count and in how the code runs (interpreted, C1, C2),
 * which must not change a bit. Steps alternate a causal-LM loss over every position (full-vocabulary softmax, the
 * matmul backward's tiles) and a loss at the last position only (the backward's few-rows sweep), with dropout on.
 */
public final class SeededTraining {
    private SeededTraining() {}

    /** Arguments: the number of steps, then model folders under ../shared (golden/gpt2-tiny, ...). */
    public static void main(String[] args) {
        int steps = Integer.parseInt(args[0]);
        for (int i = 1; i < args.length; i++) train(Shared.resolve(args[i]), steps);
    }

    private static void train(Path dir, int steps) {
        int vocab = ModelConfig.read(dir).vocab();
        int T = 24;
        int[] ids = new int[T];
        for (int t = 0; t < T; t++) ids[t] = (t * 37 + 11) % vocab;
        int[] next = Arrays.copyOfRange(ids, 1, T);
        int[] positions = new int[T - 1];
        for (int t = 0; t < T - 1; t++) positions[t] = t;
        ModelFiles.Options o = ModelFiles.Options.builder()
                .trainable()
                .headRows(T)
                .labels(0, Pooling.LAST, 0)
                .kernels(new CpuKernels())
                .build();
        Model m = ModelFiles.load(dir, ModelConfig.read(dir).layers(), o);
        AdamW opt = new AdamW(m, AdamWSettings.torchDefaults(1e-3f));
        m.train(42);
        StringBuilder out = new StringBuilder(dir.getFileName() + " losses");
        for (int step = 0; step < steps; step++) {
            m.zeroGrad();
            m.forward(ids, T);
            boolean causal = step % 2 == 0;
            m.lmLogits(causal ? positions : new int[] {T - 1}, causal ? T - 1 : 1);
            float loss = m.loss(causal ? next : new int[] {ids[0]}, null);
            m.backward();
            opt.step();
            out.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(loss)));
        }
        m.kernels().read(m.params().all);
        float[] w = m.params().block;
        ByteBuffer bytes = ByteBuffer.allocate(4 * w.length);
        for (float x : w) bytes.putInt(Float.floatToRawIntBits(x));
        out.append("\n").append(dir.getFileName()).append(" weights ");
        out.append(HexFormat.of().formatHex(Checkpoint.sha256().digest(bytes.array())));
        System.out.println(out);
    }
}
