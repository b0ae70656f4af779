package slim.nn;

import java.io.Serial;

/**
 * An error the user can fix: a bad file, a bad option, an input the model cannot take. Its
 * message names the file (and tensor, row, ...) and the problem, so the CLI prints it as is.
 */
public class SlimException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public SlimException(String message) {
        super(message);
    }

    public SlimException(String message, Throwable cause) {
        super(message, cause);
    }
}
