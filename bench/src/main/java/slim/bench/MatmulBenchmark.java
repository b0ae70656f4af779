package slim.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import slim.nn.Slice;
import slim.nn.kernels.Matmul;

/**
 * The linear layers of a GPT-2 small block at T rows: out[T, OC] = inp[T, C]·w[OC, C]ᵀ + b, and its
 * backward (dinp += dout·w, dw += doutᵀ·inp, db += Σ dout). Forward is 2·T·C·OC flops, backward
 * twice that; run.py turns the times into GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatmulBenchmark {

    /** C x OC: the MLP up (768x3072) and down (3072x768) projections and the fused qkv (768x2304). */
    @Param({"768x3072", "3072x768", "768x2304"})
    public String shape;

    @Param({"128"})
    public int T;

    private int C, OC;
    private float[] inp, w, b, out, dout, dinp, dw, db;

    @Setup(Level.Trial)
    public void setup() {
        String[] parts = shape.split("x");
        C = Integer.parseInt(parts[0]);
        OC = Integer.parseInt(parts[1]);
        SplittableRandom random = new SplittableRandom(1);
        inp = random(random, T * C);
        w = random(random, OC * C);
        b = random(random, OC);
        dout = random(random, T * OC);
        out = new float[T * OC];
        dinp = new float[T * C];
        dw = new float[OC * C];
        db = new float[OC];
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() - 0.5);
        return x;
    }

    @Benchmark
    public float[] forward() {
        Matmul.forward(Slice.of(out), Slice.of(inp), Slice.of(w), Slice.of(b), T, C, OC);
        return out;
    }

    @Benchmark
    public float[] backward() {
        Matmul.backward(
                Slice.of(dinp), Slice.of(dw), Slice.of(db), Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        return dw;
    }
}
