package slim.data;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The study's names for its tasks and settings: a constant by its id or its Java name, in any case. */
final class EnumIds {
    private EnumIds() {}

    /** The constant whose id or name is name; else an error naming what (task, setting) and every id. */
    static <E extends Enum<E>> E parse(String what, String name, E[] values, Function<E, String> id) {
        for (E e : values) {
            if (id.apply(e).equalsIgnoreCase(name) || e.name().equalsIgnoreCase(name)) return e;
        }
        throw new IllegalArgumentException("unknown " + what + " '" + name + "': expected one of "
                + Arrays.stream(values).map(id).collect(Collectors.joining(", ")));
    }
}
