package slim.experiments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * Splits a grid's cells into n shards of about the same estimated cost, so the tasks of a job array
 * finish at about the same time: greedy longest-processing-time first (the costliest cell goes to the
 * shard with the least cost so far), which is within 4/3 of the best split. Round-robin by position
 * is not: the cross product's order puts a setting's cells at fixed strides, so one shard got every
 * lm-prompt cell and another every cls-plain cell. Every task computes the same split on its own,
 * so nothing is shared but the arguments: ties go to grid order and the lowest shard. With equal costs
 * the split is round-robin.
 */
public final class Shards {
    private final List<List<Cell>> shards;
    private final double[] costs;

    private Shards(List<List<Cell>> shards, double[] costs) {
        this.shards = shards;
        this.costs = costs;
    }

    /** The cells split into count shards by cost (each shard in grid order). */
    public static Shards balanced(List<Cell> cells, int count, ToDoubleFunction<Cell> cost) {
        if (count == 1) return new Shards(List.of(cells), new double[] {1}); // no estimate needed
        double[] cellCost = cells.stream().mapToDouble(cost).toArray();
        Integer[] byCost = IntStream.range(0, cells.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(
                byCost, Comparator.comparingDouble((Integer i) -> -cellCost[i]).thenComparingInt(i -> i));
        double[] load = new double[count];
        List<List<Integer>> positions = new ArrayList<>();
        for (int s = 0; s < count; s++) positions.add(new ArrayList<>());
        for (int i : byCost) {
            int least = 0;
            for (int s = 1; s < count; s++) if (load[s] < load[least]) least = s;
            load[least] += cellCost[i];
            positions.get(least).add(i);
        }
        List<List<Cell>> shards = positions.stream()
                .map(p -> p.stream().sorted().map(cells::get).toList())
                .toList();
        return new Shards(shards, load);
    }

    /** Every cell the same cost: round-robin by position. */
    public static Shards equal(List<Cell> cells, int count) {
        return balanced(cells, count, c -> 1);
    }

    /** The cells of shard i, in grid order. */
    public List<Cell> cells(Grid.Shard shard) {
        if (shard.count() != shards.size()) {
            throw new IllegalArgumentException(
                    "shard " + shard.index() + "/" + shard.count() + " of a split into " + shards.size());
        }
        return shards.get(shard.index());
    }

    public int count() {
        return shards.size();
    }

    /** Shard i's estimated cost as a fraction of the whole grid's. */
    public double share(int shard) {
        double total = 0;
        for (double c : costs) total += c;
        return total == 0 ? 0 : costs[shard] / total;
    }
}
