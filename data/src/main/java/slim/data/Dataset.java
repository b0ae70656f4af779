package slim.data;

import java.nio.file.Path;
import java.util.List;

/** A task's train and test sets as read from disk, with the files they came from. */
public record Dataset(Task task, List<Example> train, List<Example> test, Path trainFile, Path testFile) {}
