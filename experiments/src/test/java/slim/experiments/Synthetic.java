package slim.experiments;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import slim.nn.kernels.CpuKernels;

/** Result records made up for tests of the grid and the report. */
final class Synthetic {
    private Synthetic() {}

    /** A made-up model: its folder name, model_type, number of layers and hidden size. */
    record Model(String name, String type, int layers, int hidden) {
        /** Its first k layers, as the study keeps them. */
        Kept first(int k) {
            return new Kept(this, "first", IntStream.range(0, k).boxed().toList());
        }

        /** The layers a selection (bi, angular) chose. */
        Kept selected(String selection, List<Integer> layers) {
            return new Kept(this, selection, layers);
        }
    }

    /** The layers of a model that a cell kept, and how they were chosen. */
    record Kept(Model model, String selection, List<Integer> layers) {
        /** The cell's result: its test and best validation accuracy are accuracy, every other number made up. */
        Result result(String task, String setting, int seed, double accuracy) {
            int keep = layers.size();
            var cell = new Result.CellInfo(
                    "/models/" + model.name,
                    model.name,
                    model.type,
                    model.layers,
                    model.hidden,
                    keep,
                    selection,
                    layers,
                    task,
                    setting,
                    seed,
                    setting.equals("lm-prompt") ? null : "last");
            int longestPrompt = 10, shortenedPrompts = 0, prefixTokens = 0, promptLimit = 1024;
            var prompts = new Result.Prompts(
                    Map.of("train", new int[] {1, 2}),
                    null,
                    null,
                    longestPrompt,
                    shortenedPrompts,
                    prefixTokens,
                    promptLimit);
            int bestEpoch = 1;
            boolean stoppedEarly = false;
            double trainLoss = 0.5, majority = 0.5;
            var curves = new Result.Curves(
                    new double[] {accuracy},
                    new double[] {trainLoss},
                    bestEpoch,
                    accuracy,
                    stoppedEarly,
                    accuracy,
                    majority);
            long paramsKept = 1000L * keep + 100, headParams = 0, peakHeap = 1, peakRss = 1;
            double wallSeconds = 1, trainSeconds = 1, evalSeconds = 0, tokensPerSecond = 100;
            var costs = new Result.Costs(
                    paramsKept, headParams, wallSeconds, trainSeconds, evalSeconds, tokensPerSecond, peakHeap, peakRss);
            return Result.of(
                    cell,
                    Protocol.study(),
                    origin(task),
                    null,
                    Result.RunInfo.since(null, new CpuKernels().name()),
                    prompts,
                    curves,
                    costs,
                    null,
                    null);
        }
    }

    /** What every synthetic cell of a task is made from: one model, and the task's one pair of data files. */
    static Origin origin(String task) {
        return new Origin(
                "synthetic-model",
                Map.of(
                        "train", new Origin.DataFile("/data/" + task + "/train.csv", 1, "train-" + task),
                        "test", new Origin.DataFile("/data/" + task + "/test.csv", 1, "test-" + task)));
    }

    /** {@link #origin(String)} of the cell's task, as a grid's origins. */
    static Origin origin(Cell cell) {
        return origin(cell.task().id());
    }

    /** What a runner returns for a cell without training anything. */
    static Result of(Cell cell) {
        return new Model(cell.modelName(), "llama", 3, 32)
                .first(cell.keep())
                .result(cell.task().id(), cell.setting().id(), cell.seed(), 0.5);
    }

    /** The result as if made from origin (null: written before results recorded it, schema 2). */
    static Result withOrigin(Result r, Origin origin) {
        return new Result(
                origin == null ? 2 : r.schemaVersion(),
                r.cell(),
                r.protocol(),
                origin,
                r.status(),
                r.error(),
                r.run(),
                r.prompts(),
                r.curves(),
                r.costs(),
                r.layerScores(),
                r.predictions());
    }
}
