package dev.graft.io;

import dev.graft.InvalidInputException;

/** A file that is not a valid safetensors file; the message names the file, and the tensor and byte offset where known. */
public final class SafetensorsFormatException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  public SafetensorsFormatException(String message) {
    super(message);
  }
}
