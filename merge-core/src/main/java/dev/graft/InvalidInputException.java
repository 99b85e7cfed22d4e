package dev.graft;

/**
 * Bad input from the user: a malformed file, a wrong recipe, a missing model, mismatched shapes.
 *
 * <p>The message is complete on its own (what is wrong, where, how to fix it) and is shown to the user
 * without a stack trace; the command line maps this exception to exit code 2.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
