package slim.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import slim.nn.SlimException;

/**
 * The examples one run uses, drawn from a seed: one demonstration per class, then the training and
 * validation examples, all disjoint and from the train set; the test examples from the test set (all of
 * them when it has fewer than asked). java.util.Random's generator is fixed by its specification, so a
 * seed picks the same rows on every machine and JDK.
 */
public record Split(
        int seed, List<Example> demonstrations, List<Example> train, List<Example> val, List<Example> test) {

    /** The study's sizes: 200 training, 1000 validation and 1000 test examples. */
    public static final int STUDY_TRAIN = 200, STUDY_VAL = 1000, STUDY_TEST = 1000;
    /** The study's seeds. */
    public static final List<Integer> STUDY_SEEDS = List.of(0, 42, 421, 520, 1218);

    public static Split study(Dataset data, int seed) {
        return make(data, seed, STUDY_TRAIN, STUDY_VAL, STUDY_TEST);
    }

    public static Split make(Dataset data, int seed, int nTrain, int nVal, int nTest) {
        Task task = data.task();
        List<Example> pool = data.train();
        int needed = task.numLabels() + nTrain + nVal;
        if (pool.size() < needed) {
            throw new SlimException(
                    data.trainFile() + ": " + pool.size() + " rows, fewer than the " + needed + " a split needs ("
                            + task.numLabels() + " demonstrations + " + nTrain + " train + " + nVal + " val)");
        }
        Random random = new Random(seed);
        int[] order = permutation(pool.size(), random);

        // the first row of each class in the shuffled order is that class's demonstration
        Example[] byClass = new Example[task.numLabels()];
        boolean[] used = new boolean[pool.size()];
        for (int i : order) {
            Example e = pool.get(i);
            if (byClass[e.label()] == null) {
                byClass[e.label()] = e;
                used[i] = true;
            }
        }
        for (int c = 0; c < byClass.length; c++) {
            if (byClass[c] == null)
                throw new SlimException(data.trainFile() + ": no example of class "
                        + task.labels().get(c));
        }
        // demonstrations appear in a seeded order, so no class is always the one next to the query
        List<Example> demonstrations = new ArrayList<>(byClass.length);
        for (int i : permutation(byClass.length, random)) demonstrations.add(byClass[i]);

        List<Example> train = new ArrayList<>(nTrain), val = new ArrayList<>(nVal);
        for (int i : order) {
            if (used[i]) continue;
            if (train.size() < nTrain) train.add(pool.get(i));
            else if (val.size() < nVal) val.add(pool.get(i));
            else break;
        }

        List<Example> test;
        if (data.test().size() <= nTest) {
            test = List.copyOf(data.test());
        } else {
            test = new ArrayList<>(nTest);
            int[] testOrder = permutation(data.test().size(), random);
            for (int k = 0; k < nTest; k++) test.add(data.test().get(testOrder[k]));
        }
        return new Split(seed, List.copyOf(demonstrations), List.copyOf(train), List.copyOf(val), List.copyOf(test));
    }

    private static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        shuffle(p, random);
        return p;
    }

    /** Fisher-Yates in place, spelled out so the order depends on nothing but the generator. */
    public static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The chosen rows of each part (0-based data rows of the train and test files), for the run's output. */
    public Map<String, int[]> rows() {
        Map<String, int[]> rows = new LinkedHashMap<>();
        rows.put("demonstrations", rows(demonstrations));
        rows.put("train", rows(train));
        rows.put("val", rows(val));
        rows.put("test", rows(test));
        return rows;
    }

    private static int[] rows(List<Example> examples) {
        return examples.stream().mapToInt(Example::row).toArray();
    }
}
