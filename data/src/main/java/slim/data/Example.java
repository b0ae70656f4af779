package slim.data;

/** One labelled text; row is its 0-based data row in the file it came from (header not counted). */
public record Example(String text, int label, int row) {}
