package slim.nn.io;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import slim.nn.SlimException;

/**
 * Interprets the pickle of a PyTorch state dict ({@code data.pkl} in a {@code torch.save} zip) without executing
 * anything: it knows only the opcodes a state dict is written with and the globals it names
 * ({@link Callable}: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2} and its relatives,
 * and the torch storage types), and refuses every other global or opcode with an error naming it, before anything
 * could be built from it. A tensor comes out as a {@link Tensor}: its storage (the zip entry holding its bytes),
 * offset, shape and stride; the bytes are never read here.
 *
 * <p>Written by hand rather than on a pickle library because the one well-kept JVM library (net.razorvine:pickle)
 * cannot be confined: its registry of constructors is static and shared by the whole JVM, the method that resolves
 * a global is package-private, and a global it does not know becomes a generic object instead of an error. What a
 * state dict needs is about thirty opcodes.
 */
final class TorchPickle {

    /** A storage named by a persistent id: its key (the zip entry {@code data/<key>}), dtype and element count. */
    record Storage(String key, String dtype, long elements) {}

    /** A tensor as {@code _rebuild_tensor_v2} describes it, in elements of its storage's dtype. */
    record Tensor(Storage storage, long offset, long[] shape, long[] stride) {}

    /** The globals a state dict may name: what REDUCE may call and what a persistent id may name as storage type. */
    enum Callable {
        ORDERED_DICT("collections", "OrderedDict"),
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2"),
        REBUILD_TENSOR("torch._utils", "_rebuild_tensor"),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter");

        final String qualifiedName;

        Callable(String module, String name) {
            this.qualifiedName = module + "." + name;
        }
    }

    /** torch's typed storage classes, by the dtype names safetensors uses. */
    private static final Map<String, String> STORAGE_DTYPES = Map.ofEntries(
            Map.entry("DoubleStorage", "F64"),
            Map.entry("FloatStorage", "F32"),
            Map.entry("HalfStorage", "F16"),
            Map.entry("BFloat16Storage", "BF16"),
            Map.entry("LongStorage", "I64"),
            Map.entry("IntStorage", "I32"),
            Map.entry("ShortStorage", "I16"),
            Map.entry("CharStorage", "I8"),
            Map.entry("ByteStorage", "U8"),
            Map.entry("BoolStorage", "BOOL"));

    /** A storage type named by a global, e.g. {@code torch.HalfStorage}. */
    private record StorageType(String dtype) {}

    /** Python's None, which an ArrayList could hold as null but which reads better named. */
    private enum None {
        NONE
    }

    private static final Object MARK = new Object();

    private final ByteBuffer in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Integer, Object> memo = new HashMap<>();

    private TorchPickle(byte[] pickle, String source) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    /**
     * The state dict a pickle holds, tensor name to tensor.
     *
     * @param source names the pickle in errors (the file and its entry)
     * @throws SlimException for a global or opcode a state dict does not use, a malformed pickle, or a value that
     *                       is not a tensor
     */
    static Map<String, Tensor> stateDict(byte[] pickle, String source) {
        Object root = new TorchPickle(pickle, source).run();
        if (!(root instanceof Map<?, ?> map)) {
            throw new SlimException(source + ": holds a " + typeName(root) + ", not a state dict (a dict of tensors)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new SlimException(source + ": a key of the state dict is not a string");
            }
            if (!(e.getValue() instanceof Tensor t)) {
                throw new SlimException(source + ": '" + name + "' is a " + typeName(e.getValue()) + ", not a tensor");
            }
            tensors.put(name, t);
        }
        return tensors;
    }

    private Object run() {
        try {
            return interpret();
        } catch (BufferUnderflowException e) {
            throw malformed("ends in the middle of an opcode's argument");
        }
    }

    private Object interpret() {
        while (true) {
            if (!in.hasRemaining()) throw malformed("ends before its STOP opcode");
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> u8(); // PROTO
                case 0x95 -> in.getLong(); // FRAME: a length hint
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw malformed("stops with " + stack.size() + " values on its stack");
                    }
                    return stack.getFirst();
                }
                case '(' -> {
                    marks.add(stack.size());
                    push(MARK);
                } // MARK
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(None.NONE);
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 'J' -> push((long) in.getInt()); // BININT
                case 0x8a -> push(long1()); // LONG1
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT, big-endian
                case 'X' -> push(text(u32(), StandardCharsets.UTF_8)); // BINUNICODE
                case 0x8c -> push(text(u8(), StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                case 0x8d -> push(text(in.getLong(), StandardCharsets.UTF_8)); // BINUNICODE8
                case 'T' -> push(text(u32(), StandardCharsets.ISO_8859_1)); // BINSTRING (Python 2)
                case 'U' -> push(text(u8(), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING (Python 2)
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 0x85 -> push(tuple(1)); // TUPLE1
                case 0x86 -> push(tuple(2)); // TUPLE2
                case 0x87 -> push(tuple(3)); // TUPLE3
                case 't' -> push(tupleOf(popMark())); // TUPLE
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'a' -> list(peekBelow(1)).add(pop()); // APPEND
                case 'e' -> {
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                } // APPENDS
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> {
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putAll(d, popMark());
                    push(d);
                } // DICT
                case 's' -> {
                    Object v = pop(), k = pop();
                    dict(peek()).put(k, v);
                } // SETITEM
                case 'u' -> {
                    List<Object> items = popMark();
                    putAll(dict(peek()), items);
                } // SETITEMS
                case 'q' -> memo.put(u8(), peek()); // BINPUT
                case 'r' -> memo.put(u32(), peek()); // LONG_BINPUT
                case 0x94 -> memo.put(memo.size(), peek()); // MEMOIZE
                case 'h' -> push(recall(u8())); // BINGET
                case 'j' -> push(recall(u32())); // LONG_BINGET
                case 'c' -> push(global(line(), line())); // GLOBAL
                case 0x93 -> {
                    Object name = pop(), module = pop();
                    push(global(string(module), string(name)));
                } // STACK_GLOBAL
                case 'Q' -> push(storage(pop())); // BINPERSID
                case 'R' -> {
                    Object args = pop();
                    push(reduce(pop(), args));
                } // REDUCE
                case 'b' -> build(pop(), peek()); // BUILD
                default ->
                    throw new SlimException(source + ": pickle opcode 0x" + Integer.toHexString(op)
                            + " at byte " + at
                            + " is not one a state dict is written with; refused without running anything");
            }
        }
    }

    /** Resolves GLOBAL/STACK_GLOBAL: only the state dict's own globals; every other name is refused here. */
    private Object global(String module, String name) {
        String qualified = module + "." + name;
        for (Callable c : Callable.values()) if (c.qualifiedName.equals(qualified)) return c;
        if (module.equals("torch") && STORAGE_DTYPES.containsKey(name))
            return new StorageType(STORAGE_DTYPES.get(name));
        Set<String> accepted = new TreeSet<>();
        for (Callable c : Callable.values()) accepted.add(c.qualifiedName);
        accepted.add("torch.<Type>Storage");
        throw new SlimException(source + ": the pickle names the global '" + qualified
                + "', which a state dict does not use;"
                + " refused without running anything (accepted: " + String.join(", ", accepted) + ")");
    }

    private Object reduce(Object callable, Object args) {
        if (!(callable instanceof Callable c)) {
            throw malformed("calls a " + typeName(callable) + ", which is not callable here");
        }
        List<Object> a = tupleArg(args, c);
        return switch (c) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw malformed("builds an OrderedDict from arguments; state dicts build it empty");
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR_V2, REBUILD_TENSOR -> {
                if (a.size() < 4) {
                    throw malformed(c.qualifiedName + " with " + a.size() + " arguments; it takes at least 4");
                }
                if (!(a.get(0) instanceof Storage s)) {
                    throw malformed(c.qualifiedName + " of a " + typeName(a.get(0)) + ", not a storage");
                }
                yield new Tensor(s, integer(a.get(1)), longs(a.get(2)), longs(a.get(3)));
            }
            case REBUILD_PARAMETER -> {
                if (a.isEmpty() || !(a.getFirst() instanceof Tensor t)) {
                    throw malformed(c.qualifiedName + " of something that is not a tensor");
                }
                yield t;
            }
        };
    }

    /**
     * BUILD sets an object's state; a state dict's only one is the OrderedDict's {@code _metadata}, which slim ignores.
     */
    private void build(Object state, Object target) {
        if (!(target instanceof Map<?, ?>) || !(state instanceof Map<?, ?>)) {
            throw malformed("sets the state of a " + typeName(target) + "; a state dict sets only its dict's metadata");
        }
    }

    /** A persistent id {@code ('storage', storage type, key, location, elements)}: a storage in the zip. */
    private Storage storage(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw malformed("persistent id " + describe(pid) + " is not ('storage', type, key, location, size)");
        }
        if (!(t.get(1) instanceof StorageType type)) throw malformed("storage of type " + describe(t.get(1)));
        return new Storage(string(t.get(2)), type.dtype(), integer(t.get(4)));
    }

    private List<Object> tupleArg(Object args, Callable c) {
        if (!(args instanceof List<?> a)) {
            throw malformed(c.qualifiedName + " called with a " + typeName(args) + ", not a tuple");
        }
        return new ArrayList<>(a);
    }

    private long[] longs(Object tuple) {
        if (!(tuple instanceof List<?> t)) {
            throw malformed("a shape or stride is a " + typeName(tuple) + ", not a tuple");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = integer(t.get(i));
        return out;
    }

    private long integer(Object o) {
        if (o instanceof Long l) return l;
        throw malformed("expected an integer, found " + describe(o));
    }

    private String string(Object o) {
        if (o instanceof String s) return s;
        throw malformed("expected a string, found " + describe(o));
    }

    private void putAll(Map<Object, Object> d, List<Object> items) {
        if (items.size() % 2 != 0) throw malformed("sets " + items.size() + " items, not key-value pairs");
        for (int i = 0; i < items.size(); i += 2) d.put(items.get(i), items.get(i + 1));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw malformed("sets an item of a " + typeName(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw malformed("appends to a " + typeName(o) + ", not a list");
    }

    /** Tuples are immutable lists (which may hold None); lists are ArrayLists. */
    private static List<Object> tupleOf(List<Object> items) {
        return Collections.unmodifiableList(new ArrayList<>(items));
    }

    private List<Object> tuple(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return tupleOf(Arrays.asList(items));
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw malformed("pops an empty stack");
        return stack.removeLast();
    }

    private Object peek() {
        return peekBelow(0);
    }

    private Object peekBelow(int depth) {
        int i = stack.size() - 1 - depth;
        if (i < 0 || stack.get(i) == MARK) throw malformed("reads past the top of its stack");
        return stack.get(i);
    }

    /** Pops everything above the last MARK, and the mark. */
    private List<Object> popMark() {
        if (marks.isEmpty()) throw malformed("has no MARK to pop to");
        int mark = marks.removeLast();
        List<Object> top = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return top;
    }

    private Object recall(int index) {
        Object o = memo.get(index);
        if (o == null) throw malformed("recalls memo entry " + index + ", which was never stored");
        return o;
    }

    private int u8() {
        return in.get() & 0xff;
    }

    /** A 4-byte unsigned count or memo index; a larger one could never be used here. */
    private int u32() {
        long n = in.getInt() & 0xffffffffL;
        if (n > Integer.MAX_VALUE) throw malformed("has a count of " + n);
        return (int) n;
    }

    private int length(long n) {
        if (n < 0 || n > in.remaining()) throw malformed("has a length of " + n + " bytes past its end");
        return (int) n;
    }

    /** LONG1: a little-endian two's-complement integer of n bytes (n <= 8 here: tensor sizes and offsets). */
    private long long1() {
        int n = u8();
        if (n > 8) throw malformed("has an integer of " + n + " bytes");
        long v = 0;
        for (int i = 0; i < n; i++) v |= (long) u8() << (8 * i);
        if (n > 0 && n < 8 && (v >> (8 * n - 1) & 1) != 0) v -= 1L << (8 * n);
        return v;
    }

    private String text(long bytes, Charset charset) {
        byte[] b = new byte[length(bytes)];
        in.get(b);
        return new String(b, charset);
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name). */
    private String line() {
        StringBuilder s = new StringBuilder();
        while (true) {
            if (!in.hasRemaining()) throw malformed("ends inside a GLOBAL name");
            byte b = in.get();
            if (b == '\n') return s.toString();
            s.append((char) (b & 0xff));
        }
    }

    private SlimException malformed(String problem) {
        return new SlimException(
                source + ": not a state dict pickle this reader accepts: at byte " + in.position() + " it " + problem);
    }

    private static String describe(Object o) {
        return o instanceof String s ? "'" + s + "'" : o instanceof Long l ? l.toString() : "a " + typeName(o);
    }

    private static String typeName(Object o) {
        if (o instanceof Callable c) return c.qualifiedName;
        if (o instanceof List<?> l) return l instanceof ArrayList<?> ? "list" : "tuple";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof Storage) return "storage";
        if (o instanceof Tensor) return "tensor";
        if (o instanceof StorageType t) return "storage type (" + t.dtype() + ")";
        return o == null
                ? "nothing"
                : o instanceof None ? "None" : o.getClass().getSimpleName().toLowerCase();
    }
}
