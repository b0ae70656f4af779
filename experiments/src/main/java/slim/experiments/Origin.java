package slim.experiments;

/**
 * What made a result, beyond which cell it is: the protocol it ran under. Two results of one model made
 * differently must not be reused as each other or averaged together, so the difference is named.
 */
final class Origin {
    private Origin() {}

    /** How b was made differently from a, in words, or null when they were made alike. */
    static String difference(Result a, Result b) {
        if (!a.protocol().equals(b.protocol())) return "protocol " + a.protocol() + " vs " + b.protocol();
        return null;
    }
}
